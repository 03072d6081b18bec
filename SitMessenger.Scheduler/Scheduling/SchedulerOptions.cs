using SitMessenger.Chat.Messaging;

namespace SitMessenger.Scheduler.Scheduling;

/// <summary>Section "Scheduler": the recurring jobs and the leader lease that keeps them from running twice.</summary>
internal sealed class SchedulerOptions
{
    public const string SectionName = "Scheduler";

    /// <summary>
    /// Keyed by job name. The defaults are already here so configuration only states differences: binding merges
    /// into an existing entry, so <c>Scheduler:Jobs:compact-segments:Enabled=false</c> keeps its cron and type.
    /// </summary>
    public Dictionary<string, ScheduledJobOptions> Jobs { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        // Each named after its type; JobTypes.Recurring lists them for the dashboard's "Run ... now" commands.
        [JobTypes.SweepPending] = new() { Cron = "*/10 * * * * *", Type = JobTypes.SweepPending },
        [JobTypes.DeleteExpiredTokens] = new() { Cron = "0 17 * * * *", Type = JobTypes.DeleteExpiredTokens },
        [JobTypes.RemoveOrphanSegments] = new() { Cron = "0 */15 * * * *", Type = JobTypes.RemoveOrphanSegments },
        [JobTypes.CompactSegments] = new() { Cron = "0 */5 * * * *", Type = JobTypes.CompactSegments },
    };

    /// <summary>How long a leader stays leader without renewing: the longest a dead leader's schedule goes unattended.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the leader renews and followers try to take over; well under the lease so one lost renewal is survivable.</summary>
    public TimeSpan RenewEvery { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A broker that neither confirms nor refuses must not hold up every other job.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How far back a new leader looks for an occurrence the old one may have missed: long enough to cover a take-over
    /// (lease expiry plus a follower's retry), short enough that the "fired" marker of that occurrence still exists.
    /// </summary>
    public TimeSpan CatchUpWindow => LeaseDuration * 2;

    /// <summary>Outlives <see cref="CatchUpWindow"/>, so no leader can see an occurrence as unfired that was fired.</summary>
    public TimeSpan FiredMarkerLifetime => LeaseDuration * 2 + TimeSpan.FromSeconds(60);
}

internal sealed class ScheduledJobOptions
{
    /// <summary>Six fields, seconds first (Cronos' <c>CronFormat.IncludeSeconds</c>), evaluated in UTC.</summary>
    public string Cron { get; set; } = "";

    /// <summary>One of <see cref="JobTypes"/>.</summary>
    public string Type { get; set; } = "";

    public string Queue { get; set; } = JobQueues.Jobs;

    public bool Enabled { get; set; } = true;
}
