using System.Reflection;
using System.Runtime.InteropServices;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;

namespace SitMessenger.AppHost.Extensions;

/// <summary>
/// Runs a .NET service from the assembly the AppHost's build produced, as <c>dotnet exec &lt;assembly&gt;</c> in the
/// project's folder, instead of Aspire's default <c>dotnet run --project … --no-build</c>.
/// </summary>
/// <remarks>
/// <para>
/// <c>dotnet run</c> evaluates the project with MSBuild before every start, although the AppHost's build has just built
/// it: about two seconds of CPU per service, five services on two cores at once. It also stays between DCP and the
/// service as a second process (~100 MB each) that a stop has to pass through.
/// </para>
/// <para>
/// The resource stays an Aspire project resource: the dashboard shows it as one, publish mode writes <c>project.v0</c>,
/// and an IDE debug session or <c>dotnet watch</c> still launch it their own way. Aspire honours an
/// <see cref="ExecutableAnnotation"/> on a project resource (command and working folder, and then no <c>run</c> arguments
/// of its own). A service whose assembly is not where the build said (built another way since) keeps <c>dotnet run</c>.
/// </para>
/// </remarks>
internal static class BuiltOutputLaunch
{
    /// <summary>Key prefix of the assembly metadata the AppHost's build writes (target EmbedServiceAssemblyPaths).</summary>
    internal const string MetadataPrefix = "SitMessenger.ServiceAssembly:";

    public static IResourceBuilder<ProjectResource> RunFromBuildOutput(this IResourceBuilder<ProjectResource> service)
    {
        var builder = service.ApplicationBuilder;
        var wanted = builder.Configuration.GetValue($"{AppHostOptions.SectionName}:{nameof(AppHostOptions.RunServicesFromBuildOutput)}", true);
        if (!wanted || !builder.ExecutionContext.IsRunMode || LaunchedByATool(builder.Configuration))
        {
            return service;
        }

        var project = service.Resource.GetProjectMetadata().ProjectPath;
        var assembly = ServiceAssembly(builder.AppHostAssembly, project);
        if (assembly is null || !File.Exists(assembly))
        {
            return service;
        }

        service.WithAnnotation(
            new ExecutableAnnotation { Command = DotnetHost(), WorkingDirectory = Path.GetDirectoryName(project)! },
            ResourceAnnotationMutationBehavior.Replace);
        // Added straight after AddProject, so these come before any argument of the service's own (WithArgs keeps order).
        return service.WithArgs("exec", assembly);
    }

    /// <summary>The assembly the build recorded for <paramref name="projectPath"/>, or null when it recorded none.</summary>
    internal static string? ServiceAssembly(Assembly? appHost, string projectPath) =>
        appHost?.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Where(a => a.Key == MetadataPrefix + Path.GetFullPath(projectPath))
            .Select(a => a.Value)
            .FirstOrDefault();

    /// <summary>
    /// The <c>dotnet</c> host of the runtime this AppHost runs on: the services target the same runtime, and it is found
    /// whether or not <c>dotnet</c> is on the PATH of whoever started us.
    /// </summary>
    internal static string DotnetHost()
    {
        var root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var host = Path.Combine(root, "dotnet");
        if (File.Exists(host))
        {
            return host;
        }

        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } sdkHost && File.Exists(sdkHost) ? sdkHost : "dotnet";
    }

    /// <summary>An IDE's debug session or <c>dotnet watch</c> own the launch; Aspire hands the project to them.</summary>
    private static bool LaunchedByATool(IConfiguration configuration) =>
        !string.IsNullOrEmpty(configuration["DEBUG_SESSION_PORT"])
        || string.Equals(configuration["DOTNET_WATCH"], "true", StringComparison.OrdinalIgnoreCase)
        || configuration["DOTNET_WATCH"] == "1";
}
