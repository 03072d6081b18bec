using System.Reflection;

namespace SitMessenger.AppHost.Hosting.Testing;

/// <summary>
/// What Aspire.Hosting.Testing does: runs the AppHost's own Program.cs to get its model, with the state folder in a
/// fresh temporary folder and free ports for everything, so tests run the system exactly as users do.
/// </summary>
public static class DistributedApplicationTestingBuilder
{
    public static DistributedApplication Create<TEntryPoint>(IDictionary<string, string?>? settings = null) where TEntryPoint : class
    {
        var stateDirectory = Directory.CreateTempSubdirectory("sit-apphost-test-").FullName;
        var effective = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            [$"{AppHostOptions.SectionName}:{nameof(AppHostOptions.StateDirectory)}"] = stateDirectory,
            [$"{AppHostOptions.SectionName}:{nameof(AppHostOptions.GatewayPort)}"] = "0",
            [$"{AppHostOptions.SectionName}:{nameof(AppHostOptions.GatewayHttpsPort)}"] = "0",
            [$"{AppHostOptions.SectionName}:{nameof(AppHostOptions.DashboardPort)}"] = "0",
            [$"{AppHostOptions.SectionName}:{nameof(AppHostOptions.ConsoleOutput)}"] = "false",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            effective[key] = value;
        }

        var hook = new TestingHook(effective);
        DistributedApplication.SetTestingHook(hook);
        try
        {
            var entryPoint = typeof(TEntryPoint).Assembly.EntryPoint
                ?? throw new InvalidOperationException($"{typeof(TEntryPoint).Assembly.GetName().Name} has no entry point.");
            entryPoint.Invoke(null, [Array.Empty<string>()]);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is Microsoft.Extensions.Hosting.HostAbortedException)
        {
            // Expected: Build() hands the application over and aborts the entry point.
        }

        return hook.Application ?? throw new InvalidOperationException("The AppHost's entry point did not build an application.");
    }
}
