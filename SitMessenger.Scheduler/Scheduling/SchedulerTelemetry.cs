using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace SitMessenger.Scheduler.Scheduling;

/// <summary>The Scheduler's spans and instruments.</summary>
internal sealed class SchedulerTelemetry : IDisposable
{
    public const string Name = "SitMessenger.Scheduler";

    public const string JobNameTag = "sit.job.name";

    /// <summary>"schedule" for a cron occurrence, "manual" for an operator's run-now.</summary>
    public const string TriggerTag = "sit.job.trigger";

    private readonly Meter _meter;

    public SchedulerTelemetry(IMeterFactory meters, SchedulerLease lease)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _meter = meters.Create(Name);
        Published = _meter.CreateCounter<long>("sit.scheduler.published", unit: "{job}",
            description: "Jobs the Scheduler published, by job name and trigger (schedule, manual)");
        // A scheduled occurrence that failed is retried, so failures can outnumber the occurrences that were missed.
        PublishFailures = _meter.CreateCounter<long>("sit.scheduler.publish_failures", unit: "{attempt}",
            description: "Publishes RabbitMQ refused or did not confirm, by job name and trigger");
        // Summed over replicas this should be exactly 1; 0 means nobody schedules, 2 means a split brain.
        _meter.CreateObservableGauge("sit.scheduler.is_leader", () => lease.IsLeader ? 1 : 0, description: "1 while this instance leads");
    }

    public static ActivitySource Source { get; } = new(Name);

    public Counter<long> Published { get; }

    public Counter<long> PublishFailures { get; }

    public void Dispose() => _meter.Dispose();
}
