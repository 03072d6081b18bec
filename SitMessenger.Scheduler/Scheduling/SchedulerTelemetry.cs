using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace SitMessenger.Scheduler.Scheduling;

/// <summary>The Scheduler's spans and instruments.</summary>
internal sealed class SchedulerTelemetry : IDisposable
{
    public const string Name = "SitMessenger.Scheduler";

    private readonly Meter _meter;

    public SchedulerTelemetry(IMeterFactory meters, SchedulerLease lease)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _meter = meters.Create(Name);
        Published = _meter.CreateCounter<long>("sit.scheduler.published", description: "Jobs the Scheduler published (scheduled and run by hand), tagged by job name");
        // Summed over replicas this should be exactly 1; 0 means nobody schedules, 2 means a split brain.
        _meter.CreateObservableGauge("sit.scheduler.is_leader", () => lease.IsLeader ? 1 : 0, description: "1 while this instance leads");
    }

    public static ActivitySource Source { get; } = new(Name);

    public Counter<long> Published { get; }

    public void Dispose() => _meter.Dispose();
}
