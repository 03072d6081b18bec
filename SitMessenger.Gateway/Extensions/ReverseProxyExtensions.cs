using Yarp.ReverseProxy.Configuration;

namespace SitMessenger.Gateway.Extensions;

internal static class ReverseProxyExtensions
{
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

        builder.Services.AddReverseProxy()
            .LoadFromMemory(routes, clusters)
            .AddServiceDiscoveryDestinationResolver();
        return builder;
    }
}
