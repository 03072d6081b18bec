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
