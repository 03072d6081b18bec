using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;

namespace SitMessenger.Gateway.Extensions;

internal static class ReverseProxyExtensions
{
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
            Cluster("hubs", options, httpRequest: null),
        ];

        builder.Services.AddSingleton<IPassiveHealthCheckPolicy, FailedDestinationPolicy>();
        builder.Services.AddReverseProxy()
            .LoadFromMemory(routes, clusters)
            .AddServiceDiscoveryDestinationResolver();
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
