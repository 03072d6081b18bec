using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Configuration;

namespace SitMessenger.AppHost.Hosting;

/// <summary>Where a service project lives; generated per project reference of the AppHost (the Projects.* classes).</summary>
public interface IProjectMetadata
{
    string ProjectDirectory { get; }

    string AssemblyName { get; }

    string Configuration { get; }

    string TargetFramework { get; }
}

/// <summary>A .NET service run from its build output (built once with the AppHost), as <c>dotnet {assembly}.dll</c>.</summary>
public sealed class ProjectResource(string name, IProjectMetadata project) : Resource(name), IRunnableResource
{
    private static readonly HttpClient HealthClient = new() { Timeout = TimeSpan.FromSeconds(5) };

    public IProjectMetadata Project { get; } = project;

    /// <summary>How many processes run this service; each gets its own port and all are given to service discovery.</summary>
    public int Replicas { get; internal set; } = 1;

    /// <summary>The name the service is known by (the same for all its replicas).</summary>
    public string ServiceName { get; private init; } = name;

    /// <summary>This resource and its extra replicas, in order; filled when the application is built.</summary>
    internal List<ProjectResource> Instances { get; } = [];

    /// <summary>A further process of this service: same project, configuration and dependencies, its own port.</summary>
    internal ProjectResource CreateReplica(int index)
    {
        var replica = new ProjectResource($"{Name}-{index}", Project) { ServiceName = ServiceName, Overrides = Overrides };
        replica.WaitsForHealthy.AddRange(WaitsForHealthy);
        replica.WaitsForCompletion.AddRange(WaitsForCompletion);
        replica.EnvironmentCallbacks.AddRange(EnvironmentCallbacks);
        replica.Endpoints.AddRange(Endpoints.Select(e => new EndpointAnnotation(e.Name, e.Scheme, 0, isExternal: false, e.IsInternal)));
        return replica;
    }

    /// <summary>Configuration given to this service over what the model sets (applied last, so it wins).</summary>
    internal IConfiguration? Overrides { get; set; }

    public override string Kind => "Project";

    public string AssemblyPath => Path.Combine(
        Project.ProjectDirectory, "bin", Project.Configuration, Project.TargetFramework, Project.AssemblyName + ".dll");

    /// <summary>A project with no HTTP endpoint is a one-shot job (the migrator): it runs to completion.</summary>
    public bool RunsToCompletion => Endpoints.Count == 0;

    IReadOnlyList<RequiredBinary> IRunnableResource.RequiredBinaries => [];

    PosixSignal IRunnableResource.StopSignal => PosixSignal.SIGTERM;

    Task IRunnableResource.PrepareAsync(RunContext context, CancellationToken cancellationToken)
    {
        if (!File.Exists(AssemblyPath))
        {
            throw new ResourceStartException(Name,
                $"{AssemblyPath} does not exist. Build the solution first: dotnet build SitMessenger.sln -c {Project.Configuration}");
        }

        return Task.CompletedTask;
    }

    ProcessStartInfo IRunnableResource.CreateStartInfo(RunContext context)
    {
        // The SDK names the host it runs under (dotnet run, dotnet test); otherwise the one on PATH.
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath ? hostPath : "dotnet";
        var startInfo = new ProcessStartInfo(dotnet) { WorkingDirectory = Project.ProjectDirectory };
        startInfo.ArgumentList.Add(AssemblyPath);

        var environment = startInfo.Environment;
        environment["DOTNET_ENVIRONMENT"] = context.EnvironmentName;
        environment["ASPNETCORE_ENVIRONMENT"] = context.EnvironmentName;
        environment["ASPNETCORE_URLS"] = string.Join(';', Endpoints.Select(e => e.Url.ToString().TrimEnd('/')));
        environment["OTEL_SERVICE_NAME"] = ServiceName;
        environment["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={Guid.NewGuid():N}";
        environment["Logging__Console__FormatterName"] = "simple";
        environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        environment["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ";
        environment["Logging__Console__FormatterOptions__ColorBehavior"] = "Disabled";
        foreach (var callback in EnvironmentCallbacks)
        {
            callback(environment!);
        }

        foreach (var (key, value) in Overrides?.AsEnumerable(makePathsRelative: true) ?? [])
        {
            if (value is not null)
            {
                environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
            }
        }

        return startInfo;
    }

    async Task<HealthStatus> IRunnableResource.CheckHealthAsync(CancellationToken cancellationToken)
    {
        if (Endpoints.Count == 0)
        {
            return HealthStatus.Healthy;
        }

        var health = new Uri(Endpoints[0].Url, "/health");
        try
        {
            using var response = await HealthClient.GetAsync(health, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return HealthStatus.Healthy;
            }

            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return HealthStatus.Unhealthy($"{health} answered {(int)response.StatusCode}: {body}");
        }
        catch (HttpRequestException ex)
        {
            return HealthStatus.Unhealthy($"{health} does not answer: {ex.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthStatus.Unhealthy($"{health} timed out");
        }
    }

    Task IRunnableResource.AfterStopAsync(RunContext context) => Task.CompletedTask;
}
