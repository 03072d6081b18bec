using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using SitMessenger.Chat.Messaging;
using StackExchange.Redis;

namespace SitMessenger.Scheduler.Scheduling;

internal enum FireOutcome
{
    Published,

    /// <summary>Another leader (or this one, before a restart) already published this occurrence.</summary>
    AlreadyFired,

    /// <summary>Nothing was published; the occurrence may be tried again.</summary>
    Failed,
}

/// <summary>The job that was (or, with an <paramref name="Error"/>, was not) published.</summary>
internal sealed record PublishResult(string JobId, string? Error);

/// <summary>Publishes scheduled and hand-started jobs, and records each attempt in the job's history.</summary>
internal sealed partial class JobDispatcher(
    JobPublisher publisher,
    JobHistory history,
    IConnectionMultiplexer redis,
    SchedulerTelemetry telemetry,
    IOptions<SchedulerOptions> options,
    TimeProvider time,
    ILogger<JobDispatcher> logger)
{
    private const int MaxErrorLength = 500;

    private readonly SchedulerOptions _options = options.Value;

    public static string FiredKey(string jobName, DateTimeOffset occurrence) =>
        string.Create(CultureInfo.InvariantCulture, $"scheduler:fired:{jobName}:{occurrence.ToUnixTimeSeconds()}");

    /// <summary>
    /// Publishes one occurrence unless any instance already has. The claim in Redis comes first, so two leaders
    /// overlapping during a hand-over (or a leader and its restarted self) publish it once between them.
    /// </summary>
    public async Task<FireOutcome> FireAsync(ScheduledJob job, DateTimeOffset occurrence, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        using var activity = SchedulerTelemetry.Source.StartActivity($"{job.Name} schedule");
        activity?.SetTag("sit.job.name", job.Name);
        activity?.SetTag("sit.job.occurrence", occurrence.ToString("O", CultureInfo.InvariantCulture));

        var marker = FiredKey(job.Name, occurrence);
        var database = redis.GetDatabase();
        try
        {
            if (!await database.StringSetAsync(marker, "1", _options.FiredMarkerLifetime, When.NotExists).WaitAsync(cancellationToken))
            {
                LogAlreadyFired(logger, job.Name, occurrence);
                return FireOutcome.AlreadyFired;
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Unable to claim means unable to rule out a second leader: better late (a retry) than twice.
            LogClaimFailed(logger, job.Name, occurrence, ex);
            activity?.SetStatus(ActivityStatusCode.Error, "Redis unavailable");
            return FireOutcome.Failed;
        }

        var result = await PublishAsync(job, occurrence, cancellationToken);
        if (result.Error is null)
        {
            return FireOutcome.Published;
        }

        activity?.SetStatus(ActivityStatusCode.Error, result.Error);
        try
        {
            // Give the occurrence back, so a retry (ours, or a successor's) can claim it.
            await database.KeyDeleteAsync(marker).WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogUnclaimFailed(logger, job.Name, occurrence, ex);
        }

        return FireOutcome.Failed;
    }

    /// <summary>Publishes the job now, outside its schedule (an operator's "run now"); any replica may do this.</summary>
    public async Task<PublishResult> RunNowAsync(ScheduledJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        using var activity = SchedulerTelemetry.Source.StartActivity($"{job.Name} run now");
        activity?.SetTag("sit.job.name", job.Name);
        var result = await PublishAsync(job, occurrence: null, cancellationToken);
        if (result.Error is not null)
        {
            activity?.SetStatus(ActivityStatusCode.Error, result.Error);
        }

        return result;
    }

    /// <param name="occurrence">The scheduled time this run is for; null for a run started by hand.</param>
    private async Task<PublishResult> PublishAsync(ScheduledJob job, DateTimeOffset? occurrence, CancellationToken cancellationToken)
    {
        var envelope = JobEnvelope.Create(job.Type, null, time);
        string? error = null;
        using (var timeout = new CancellationTokenSource(_options.PublishTimeout, time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token))
        {
            try
            {
                await publisher.PublishAsync(envelope, job.Queue, TimeSpan.Zero, linked.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                error = string.Create(CultureInfo.InvariantCulture, $"RabbitMQ did not confirm the publish within {_options.PublishTimeout.TotalSeconds:0.#} s");
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Whatever the client throws, the job is not on the queue; the process must carry on regardless.
                error = Describe(ex);
            }
        }

        var nameTag = new KeyValuePair<string, object?>(SchedulerTelemetry.JobNameTag, job.Name);
        var triggerTag = new KeyValuePair<string, object?>(SchedulerTelemetry.TriggerTag, occurrence is null ? "manual" : "schedule");
        if (error is null)
        {
            telemetry.Published.Add(1, nameTag, triggerTag);
            if (occurrence is { } at)
            {
                LogPublished(logger, job.Name, at, envelope.Id, job.Queue);
            }
            else
            {
                LogPublishedByHand(logger, job.Name, envelope.Id, job.Queue);
            }
        }
        else
        {
            telemetry.PublishFailures.Add(1, nameTag, triggerTag);
            LogPublishFailed(logger, job.Name, error);
        }

        try
        {
            await history.RecordAsync(job.Name, time.GetUtcNow(), error is null ? JobHistory.Published : "failed: " + error, error is null ? envelope.Id : null, cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // History is for the dashboard; a published job stays published without it.
            LogHistoryFailed(logger, job.Name, ex);
        }

        return new PublishResult(envelope.Id, error);
    }

    private static string Describe(Exception ex)
    {
        var root = ex.GetBaseException();
        var text = ReferenceEquals(root, ex) ? ex.Message : $"{ex.Message} ({root.Message})";
        return text.Length <= MaxErrorLength ? text : text[..MaxErrorLength];
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Published {JobName} for {Occurrence:O} as job {JobId} to {Queue}")]
    private static partial void LogPublished(ILogger logger, string jobName, DateTimeOffset occurrence, string jobId, string queue);

    [LoggerMessage(Level = LogLevel.Information, Message = "Published {JobName}, run by hand, as job {JobId} to {Queue}")]
    private static partial void LogPublishedByHand(ILogger logger, string jobName, string jobId, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish {JobName}: {Error}")]
    private static partial void LogPublishFailed(ILogger logger, string jobName, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{JobName} at {Occurrence:O} was already published by another instance")]
    private static partial void LogAlreadyFired(ILogger logger, string jobName, DateTimeOffset occurrence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not claim {JobName} at {Occurrence:O} in Redis; not publishing it for now")]
    private static partial void LogClaimFailed(ILogger logger, string jobName, DateTimeOffset occurrence, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release the claim on {JobName} at {Occurrence:O}; it will not be retried")]
    private static partial void LogUnclaimFailed(ILogger logger, string jobName, DateTimeOffset occurrence, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record the run of {JobName} in Redis")]
    private static partial void LogHistoryFailed(ILogger logger, string jobName, Exception exception);
}
