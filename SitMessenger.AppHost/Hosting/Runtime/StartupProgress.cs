using System.Diagnostics;
using System.Globalization;

namespace SitMessenger.AppHost.Hosting;

/// <summary>Prints each resource's state changes with the time since start, so a slow or failing start is visible.</summary>
internal sealed class StartupProgress(bool enabled)
{
    private readonly long _startedAt = Stopwatch.GetTimestamp();
    private readonly Lock _gate = new();

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_startedAt);

    public event Action<string, ResourceState, string?>? Changed;

    public void Report(string resource, ResourceState state, string? detail)
    {
        Changed?.Invoke(resource, state, detail);
        Write(string.Create(CultureInfo.InvariantCulture, $"{resource,-12} {state}{(detail is null ? "" : $" ({detail})")}"));
    }

    public void Write(string message)
    {
        if (!enabled)
        {
            return;
        }

        lock (_gate)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{Elapsed.TotalSeconds,6:0.0}s] {message}"));
        }
    }
}
