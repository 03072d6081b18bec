using StackExchange.Redis;

namespace SitMessenger.Scheduler.Scheduling;

internal sealed record JobStatus(ScheduledJob Job, JobRun LastRun, DateTimeOffset? NextRun);

/// <param name="Leader">Null when nobody holds the lease, or when Redis cannot say.</param>
internal sealed record ScheduleSnapshot(string? Leader, bool IsLeader, string Instance, IReadOnlyList<JobStatus> Jobs);

/// <summary>What the dashboard shows: who leads, and each job's schedule and latest run as recorded by any replica.</summary>
internal sealed partial class ScheduleStatus(
    JobCatalog catalog,
    SchedulerLease lease,
    JobHistory history,
    TimeProvider time,
    ILogger<ScheduleStatus> logger)
{
    public async Task<ScheduleSnapshot> GetAsync(CancellationToken cancellationToken)
    {
        string? leader = null;
        IReadOnlyDictionary<string, JobRun> runs = new Dictionary<string, JobRun>();
        try
        {
            leader = await lease.GetLeaderAsync(cancellationToken);
            runs = await history.GetAsync(catalog.Jobs.Select(job => job.Name), cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // The schedule itself is known without Redis; show it, with leader and history unknown.
            LogRedisUnavailable(logger, ex);
        }

        var now = time.GetUtcNow();
        var jobs = catalog.Jobs
            .Select(job => new JobStatus(job, runs.GetValueOrDefault(job.Name) ?? JobRun.None, job.Enabled ? job.NextOccurrence(now) : null))
            .ToList();
        return new ScheduleSnapshot(leader, lease.IsLeader, lease.InstanceId, jobs);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is unavailable; the schedule is shown without leader and history")]
    private static partial void LogRedisUnavailable(ILogger logger, Exception exception);
}
