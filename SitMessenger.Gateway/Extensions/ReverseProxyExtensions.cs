using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Transforms;

namespace SitMessenger.Gateway.Extensions;

internal static class ReverseProxyExtensions
{
    public const string GatewayKeyHeader = "X-Sit-Gateway-Key";

    /// <summary>
    /// Routes the public paths to the Api. The destination "http://api" is resolved by service discovery
    /// (<c>services__api__http__0</c>, ...), so every Api replica the AppHost or the deployment names is used.
    /// REST and hubs are separate clusters over the same replicas: a REST request is held to
    /// <see cref="ProxyOptions.ActivityTimeout"/>, a real-time connection is not.
    /// </summary>
    public static IHostApplicationBuilder AddApiReverseProxy(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(ProxyOptions.SectionName).Get<ProxyOptions>() ?? new ProxyOptions();
        RouteConfig[] routes =
        [
            new() { RouteId = "api", ClusterId = "api", Match = new RouteMatch { Path = "/api/{**rest}" } },
            new() { RouteId = "hubs", ClusterId = "hubs", Match = new RouteMatch { Path = "/hubs/{**rest}" } },
        ];
        ClusterConfig[] clusters =
        [
            Cluster("api", options, new ForwarderRequestConfig { ActivityTimeout = options.ActivityTimeout }),
            Cluster("hubs", options, httpRequest: null) with
            {
                // A SignalR client that negotiates first must open its WebSocket on the replica that answered the
                // negotiate (the connection id lives there): the negotiate answer carries a cookie naming the replica.
                // Clients with skipNegotiation need no affinity; browsers and the .NET client send the cookie back.
                SessionAffinity = new SessionAffinityConfig
                {
                    Enabled = true,
                    Policy = "HashCookie",
                    FailurePolicy = "Redistribute",
                    AffinityKeyName = ".Sit.Hub.Replica",
                    Cookie = new SessionAffinityCookieConfig { HttpOnly = true, SameSite = SameSiteMode.Lax, SecurePolicy = CookieSecurePolicy.SameAsRequest },
                },
            },
        ];

        // The Api believes X-Forwarded-For only with this secret (locally all processes share 127.0.0.1, so the peer
        // address proves nothing). Set, never appended: a client's own X-Sit-Gateway-Key is replaced or removed.
        var forwardingKey = builder.Configuration["Gateway:ForwardingKey"];
        builder.Services.AddSingleton<IPassiveHealthCheckPolicy, FailedDestinationPolicy>();
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

    private static ClusterConfig Cluster(string id, ProxyOptions options, ForwarderRequestConfig? httpRequest) => new()
    {
        ClusterId = id,
        // Spread over the replicas, preferring the less busy of two picked at random.
        LoadBalancingPolicy = "PowerOfTwoChoices",
        HttpRequest = httpRequest,
        HealthCheck = new HealthCheckConfig
        {
            // A replica that stops answering gets no new requests. Liveness, not readiness: when PostgreSQL or Redis
            // is down every replica is "not ready", and the Api still answers (reads from a fallback, or a clear 503).
            Active = new ActiveHealthCheckConfig
            {
                Enabled = true,
                Interval = options.ProbeInterval,
                Timeout = options.ProbeTimeout,
                Policy = "ConsecutiveFailures",
                Path = "/alive",
            },
            // Between probes, a request that timed out or could not connect says the same at once.
            Passive = new PassiveHealthCheckConfig
            {
                Enabled = true,
                Policy = FailedDestinationPolicy.PolicyName,
                ReactivationPeriod = options.ReactivationPeriod,
            },
        },
        Destinations = new Dictionary<string, DestinationConfig>
        {
            ["api"] = new() { Address = "http://api" },
        },
    };
}
