using System.Diagnostics;
using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace SitMessenger.AppHost.Extensions;

/// <summary>
/// Prints each resource's progress with the time since start, and one line when everything is up, so a newcomer in a
/// terminal sees what is happening without opening the dashboard (which shows the same and more).
/// </summary>
internal sealed class StartupProgressReporter(ResourceNotificationService notifications, DistributedApplicationModel model) : BackgroundService
{
    public const string AllHealthyLine = "All resources are healthy";

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Dictionary<string, string> _shown = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Processes and containers; Aspire's hidden helpers (a project's "-rebuilder") never start unless asked.
        var expected = model.Resources
            .Where(r => r is ProjectResource or ExecutableResource or ContainerResource && !r.Name.EndsWith("-rebuilder", StringComparison.Ordinal))
            .Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        var ready = new HashSet<string>(StringComparer.Ordinal);
        var announced = false;
        try
        {
            await foreach (var change in notifications.WatchAsync(stoppingToken))
            {
                if (!expected.Contains(change.Resource.Name))
                {
                    continue;
                }

                var snapshot = change.Snapshot;
                var state = snapshot.State?.Text ?? "";
                var line = snapshot.HealthStatus is { } health && state == KnownResourceStates.Running ? $"{state} ({health})" : state;
                if (line.Length > 0 && _shown.GetValueOrDefault(change.ResourceId) != line)
                {
                    _shown[change.ResourceId] = line;
                    Write($"{change.ResourceId,-24} {line}{(snapshot.ExitCode is int code && state != KnownResourceStates.Running ? $", exit code {code}" : "")}");
                }

                var isUp = (state == KnownResourceStates.Running && snapshot.HealthStatus is null or HealthStatus.Healthy)
                    || (state == KnownResourceStates.Finished && snapshot.ExitCode == 0);
                if (isUp)
                {
                    ready.Add(change.Resource.Name);
                }

                if (!announced && ready.IsSupersetOf(expected))
                {
                    announced = true;
                    Write(string.Create(CultureInfo.InvariantCulture, $"{AllHealthyLine} after {_clock.Elapsed.TotalSeconds:0.0} s. The dashboard shows them (its login URL is above)."));
                    foreach (var resource in model.Resources.OfType<IResourceWithEndpoints>())
                    {
                        foreach (var endpoint in resource.Annotations.OfType<EndpointAnnotation>().Where(e => e.IsExternal && e.AllocatedEndpoint is not null))
                        {
                            Write($"{resource.Name,-24} {endpoint.AllocatedEndpoint!.UriString}");
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Write(string text) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,6:0.0}s] {text}"));
}
