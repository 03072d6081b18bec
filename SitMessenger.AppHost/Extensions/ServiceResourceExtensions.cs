using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Aspire.Hosting.ApplicationModel;
using SitMessenger.Hosting.LocalServers;

namespace SitMessenger.AppHost.Extensions;

/// <summary>How the AppHost adds one of our .NET services.</summary>
internal static class ServiceResourceExtensions
{
    /// <summary>
    /// Adds a service with one HTTP endpoint, ready when its <c>/health</c> (dependencies included) answers 200, and restarted
    /// when it crashes. One process listens straight on a free loopback port; several share one port through DCP's proxy.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddService<TProject>(this IDistributedApplicationBuilder builder, string name, int replicas = 1, int port = 0)
        where TProject : IProjectMetadata, new()
    {
        var service = builder.AddProject<TProject>(name, launchProfileName: null)
            .RunFromBuildOutput()
            // The services decide themselves whom they believe X-Forwarded-* from (the Gateway only); Aspire would
            // otherwise tell ASP.NET Core to believe any sender.
            .DisableForwardedHeaders()
            .WithServiceEnvironment(builder)
            .WithTelemetryOnlyToADashboard()
            .WithAnnotation(new RestartOnCrashAnnotation());
        if (replicas > 1)
        {
            service.WithHttpEndpoint(port: port == 0 ? null : port).WithReplicas(replicas);
        }
        else
        {
            // A proxy would add one more hop to every request in a local run; DCP's own is needed only for replicas.
            port = builder.ExecutionContext.IsRunMode ? LoopbackPorts.OrFree(port) : port;
            service.WithHttpEndpoint(port: port == 0 ? null : port, targetPort: port == 0 ? null : port, isProxied: builder.ExecutionContext.IsPublishMode);
        }

        return service.WithHttpHealthCheck("/health");
    }

    /// <summary>A one-shot service (the schema migrator): no endpoint, runs to completion, not restarted.</summary>
    public static IResourceBuilder<ProjectResource> AddJob<TProject>(this IDistributedApplicationBuilder builder, string name)
        where TProject : IProjectMetadata, new() =>
        builder.AddProject<TProject>(name, launchProfileName: null).RunFromBuildOutput().WithServiceEnvironment(builder).WithTelemetryOnlyToADashboard();

    /// <summary>
    /// Aspire points every project at the dashboard's OTLP address even when no dashboard runs (tests, <c>--AppHost:…</c>
    /// runs without one). A service then records spans for nobody and, at shutdown, its exporter retries the dead
    /// address until DCP gives up stopping it. Without a dashboard the OTLP settings are taken away, so a service exports
    /// only where someone listens; an operator's own collector still comes in through <c>Services:{name}:…</c>.
    /// With a dashboard, the exporters do not retry: the dashboard stops with everything else at Ctrl+C, and retries to
    /// it held each service's exit for up to 5 s per signal (traces, metrics, logs).
    /// </summary>
    private static IResourceBuilder<ProjectResource> WithTelemetryOnlyToADashboard(this IResourceBuilder<ProjectResource> service) =>
        service.WithEnvironment(context =>
        {
            context.EnvironmentVariables.Remove(OtlpRetrySetting);
            if (context.ExecutionContext.IsRunMode
                && context.ExecutionContext.Services.GetRequiredService<DistributedApplicationOptions>().DisableDashboard)
            {
                foreach (var key in context.EnvironmentVariables.Keys.Where(key => key.StartsWith(OtlpExporterSettingsPrefix, StringComparison.Ordinal)).ToList())
                {
                    context.EnvironmentVariables.Remove(key);
                }
            }
        });

    private const string OtlpExporterSettingsPrefix = "OTEL_EXPORTER_OTLP_";

    private const string OtlpRetrySetting = "OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY";

    /// <summary>The AppHost's environment (Development locally: CORS for the web client's dev origins, and the like).</summary>
    private static IResourceBuilder<ProjectResource> WithServiceEnvironment(this IResourceBuilder<ProjectResource> service, IDistributedApplicationBuilder builder) =>
        builder.ExecutionContext.IsPublishMode
            ? service
            : service.WithEnvironment("DOTNET_ENVIRONMENT", builder.Environment.EnvironmentName)
                .WithEnvironment("ASPNETCORE_ENVIRONMENT", builder.Environment.EnvironmentName);

    /// <summary>
    /// Operator overrides per service: AppHost configuration <c>Services:{name}:Section:Key</c> becomes <c>Section__Key</c>
    /// in that service's environment, applied after everything the model sets so that it wins.
    /// </summary>
    public static IDistributedApplicationBuilder WithServiceOverrides(this IDistributedApplicationBuilder builder)
    {
        builder.Eventing.Subscribe<BeforeStartEvent>((_, _) =>
        {
            foreach (var project in builder.Resources.OfType<ProjectResource>())
            {
                var overrides = builder.Configuration.GetSection($"Services:{project.Name}");
                project.Annotations.Add(new EnvironmentCallbackAnnotation(environment =>
                {
                    foreach (var (key, value) in overrides.AsEnumerable(makePathsRelative: true))
                    {
                        if (value is not null)
                        {
                            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
                        }
                    }
                }));
            }

            return Task.CompletedTask;
        });
        return builder;
    }
}
