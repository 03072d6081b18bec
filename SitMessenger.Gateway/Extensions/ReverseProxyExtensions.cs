using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Transforms;

namespace SitMessenger.Gateway.Extensions;

internal static class ReverseProxyExtensions
{
    public const string GatewayKeyHeader = "X-Sit-Gateway-Key";

    /// <summary>
    /// Routes the public paths to the Api. The destination "http://api" is resolved by service discovery
    /// (<c>services__api__http__0</c>, ...), so every Api replica the AppHost or the deployment names is used.
    /// </summary>
    public static IHostApplicationBuilder AddApiReverseProxy(this IHostApplicationBuilder builder)
    {
        RouteConfig[] routes =
        [
            new() { RouteId = "api", ClusterId = "api", Match = new RouteMatch { Path = "/api/{**rest}" } },
            new() { RouteId = "hubs", ClusterId = "api", Match = new RouteMatch { Path = "/hubs/{**rest}" } },
        ];
        ClusterConfig[] clusters =
        [
            new()
            {
                ClusterId = "api",
                // Spread over the replicas, preferring the less busy of two picked at random.
                LoadBalancingPolicy = "PowerOfTwoChoices",
                HealthCheck = new HealthCheckConfig
                {
                    // A replica that stops answering gets no new requests. Liveness, not readiness: when PostgreSQL or Redis
                    // is down every replica is "not ready", and the Api still answers (reads from a fallback, or a clear 503).
                    Active = new ActiveHealthCheckConfig
                    {
                        Enabled = true,
                        Interval = TimeSpan.FromSeconds(5),
                        Timeout = TimeSpan.FromSeconds(3),
                        Policy = "ConsecutiveFailures",
                        Path = "/alive",
                    },
                },
                Destinations = new Dictionary<string, DestinationConfig>
                {
                    ["api"] = new() { Address = "http://api" },
                },
            },
        ];

        // The Api believes X-Forwarded-For only with this secret (locally all processes share 127.0.0.1, so the peer
        // address proves nothing). Set, never appended: a client's own X-Sit-Gateway-Key is replaced or removed.
        var forwardingKey = builder.Configuration["Gateway:ForwardingKey"];
        builder.Services.AddReverseProxy()
            .LoadFromMemory(routes, clusters)
            .AddServiceDiscoveryDestinationResolver()
            .AddTransforms(transforms =>
            {
                if (string.IsNullOrEmpty(forwardingKey))
                {
                    transforms.AddRequestHeaderRemove(GatewayKeyHeader);
                }
                else
                {
                    transforms.AddRequestHeader(GatewayKeyHeader, forwardingKey, append: false);
                }
            });
        return builder;
    }
}
