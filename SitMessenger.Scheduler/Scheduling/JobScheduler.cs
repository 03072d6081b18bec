using Microsoft.Extensions.Options;

namespace SitMessenger.Scheduler.Scheduling;

/// <summary>
/// The Celery beat of SIT Messenger: while this instance leads, publishes each enabled job at its cron occurrences.
/// Every replica runs this loop; followers only wait, so a new leader starts publishing within a second.
/// </summary>
internal sealed partial class JobScheduler(
    JobCatalog catalog,
    SchedulerLease lease,
    JobDispatcher dispatcher,
    IOptions<SchedulerOptions> options,
    TimeProvider time,
    ILogger<JobScheduler> logger) : BackgroundService
{
    /// <summary>Longest sleep, so a change of leadership is acted on within it.</summary>
    private static readonly TimeSpan MaxSleep = TimeSpan.FromSeconds(1);

    /// <summary>Shortest sleep, so waking a hair before an occurrence does not spin.</summary>
    private static readonly TimeSpan MinSleep = TimeSpan.FromMilliseconds(10);

    private readonly SchedulerOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var jobs = catalog.Jobs.Where(job => job.Enabled).Select(job => new JobState(job)).ToList();
        LogStarting(logger, jobs.Count, string.Join(", ", jobs.Select(state => $"{state.Job.Name} \"{state.Job.Cron}\"")));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunDueAsync(jobs, stoppingToken);
                await Task.Delay(SleepTime(jobs, time.GetUtcNow()), time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A scheduler that stops scheduling is worse than one that logs: keep going.
                LogLoopFailed(logger, ex);
                await Task.Delay(MaxSleep, time, stoppingToken);
            }
        }
    }

    private async Task RunDueAsync(List<JobState> jobs, CancellationToken stoppingToken)
    {
        foreach (var state in jobs)
        {
            var now = time.GetUtcNow();
            // Looking back a whole catch-up window lets a new leader publish what a dead one missed during the
            // hand-over; the fired marker stops it from publishing again what the old leader did publish.
            var since = state.Done > now - _options.CatchUpWindow ? state.Done : now - _options.CatchUpWindow;
            foreach (var occurrence in state.Job.OccurrencesBetween(since, now))
            {
                // Checked per occurrence: leadership can lapse while a slow publish runs.
                if (!lease.IsLeader)
                {
                    return;
                }

                if (occurrence == state.FailedOccurrence && now < state.RetryAt)
                {
                    break;
                }

                if (await dispatcher.FireAsync(state.Job, occurrence, stoppingToken) == FireOutcome.Failed)
                {
                    // Retried, in order, until it falls out of the catch-up window.
                    state.FailedOccurrence = occurrence;
                    state.RetryAt = time.GetUtcNow() + _options.RenewEvery;
                    break;
                }

                state.Done = occurrence;
            }
        }
    }

    private static TimeSpan SleepTime(List<JobState> jobs, DateTimeOffset now)
    {
        var sleep = MaxSleep;
        foreach (var state in jobs)
        {
            if (state.Job.NextOccurrence(now) is { } next && next - now < sleep)
            {
                sleep = next - now;
            }

            if (state.RetryAt > now && state.RetryAt - now < sleep)
            {
                sleep = state.RetryAt - now;
            }
        }

        return sleep < MinSleep ? MinSleep : sleep;
    }

    private sealed class JobState(ScheduledJob job)
    {
        public ScheduledJob Job { get; } = job;

        /// <summary>The latest occurrence known to be published, by us or another instance.</summary>
        public DateTimeOffset Done { get; set; } = DateTimeOffset.MinValue;

        public DateTimeOffset FailedOccurrence { get; set; } = DateTimeOffset.MinValue;

        public DateTimeOffset RetryAt { get; set; } = DateTimeOffset.MinValue;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Scheduling {Count} jobs (UTC): {Jobs}")]
    private static partial void LogStarting(ILogger logger, int count, string jobs);

    [LoggerMessage(Level = LogLevel.Error, Message = "The scheduling loop failed; continuing")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception);
}
