using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using SitMessenger.AppHost.Publishing;
using SitMessenger.Hosting.LocalServers;

namespace SitMessenger.AppHost.Extensions;

/// <summary>Settings several of our services share, each written once here.</summary>
internal static class ChatServiceExtensions
{
    /// <summary>
    /// Segment files: a folder in the state folder for a local run; in a deployment a volume every replica shares.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithSegmentStore(this IResourceBuilder<ProjectResource> service, StateFolder? state) =>
        state is null
            ? service.WithEnvironment("Segments__Root", SegmentsPath).WithAnnotation(new SharedStorageAnnotation("segments", SegmentsPath))
            : service.WithEnvironment("Segments__Root", state.Combine("segments"));

    private const string SegmentsPath = "/var/lib/sitmessenger/segments";

    private const string AcmePath = "/var/lib/sitmessenger/acme";

    /// <summary>
    /// The flush delay when the AppHost is given one (<c>SitMessenger:FlushDelay</c>, e.g. by tests); otherwise the
    /// services keep FlushOptions' default, so that default is written in one place.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithFlushDelay(this IResourceBuilder<ProjectResource> service, IConfiguration configuration) =>
        configuration["SitMessenger:FlushDelay"] is { Length: > 0 } delay ? service.WithEnvironment("Flush__Delay", delay) : service;

    /// <summary>HTTPS beside HTTP on the Gateway, with its certificates (self-signed locally, ACME when configured) kept in the state folder.</summary>
    public static IResourceBuilder<ProjectResource> WithGatewayHttps(this IResourceBuilder<ProjectResource> gateway, int port, StateFolder? state)
    {
        if (state is null)
        {
            // Every Gateway replica serves the same certificates and answers the same ACME challenges.
            return gateway.WithHttpsEndpoint(port: port == 0 ? null : port)
                .WithEnvironment("Acme__StorePath", AcmePath)
                .WithAnnotation(new SharedStorageAnnotation("acme", AcmePath));
        }

        port = LoopbackPorts.OrFree(port);
        return gateway
            .WithHttpsEndpoint(port: port, targetPort: port, isProxied: false)
            .WithEnvironment("Acme__StorePath", state.Combine("acme"));
    }
}
