using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using System.Globalization;
using SitMessenger.Chat.Messaging;
using StackExchange.Redis;

namespace SitMessenger.Worker.Jobs;

public enum JobState
{
    Received,
    Started,
    Succeeded,
    Failed,
    Retried,
    DeadLettered,

    /// <summary>Failed, and neither its retry nor its dead letter could be published: handed back to its queue as it was.</summary>
    Requeued,
}

/// <summary>
/// What happened to each job, for the jobs page (what Flower showed): a capped Redis stream shared by all Workers,
/// plus OpenTelemetry metrics. Ids, types, states, timings and errors only; never message content.
/// </summary>
internal sealed partial class JobEvents : IDisposable
{
    public const string StreamKey = "jobs:events";
    public const int Capacity = 2000;

    public const string MeterOutcomes = "sit.jobs.outcomes";
    public const string MeterDuration = "sit.jobs.duration";
    public const string TypeTag = "sit.job.type";
    public const string OutcomeTag = "sit.job.outcome";
    public const string DispositionTag = "sit.job.disposition";

    /// <summary>The type tag of a job whose type no handler runs: a message's type is anyone's text, a tag must stay few-valued.</summary>
    public const string UnknownType = "(unknown)";

    public const string MalformedType = "(malformed)";

    // From a few milliseconds (a flush of a handful of messages) to minutes (a compaction of a long chat).
    private static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    private readonly IConnectionMultiplexer _redis;
    private readonly ILogger<JobEvents> _logger;
    private readonly FrozenSet<string> _knownTypes;
    private readonly Meter _meter;
    private readonly Counter<long> _states;
    private readonly Counter<long> _outcomes;
    private readonly Histogram<double> _duration;

    public JobEvents(IConnectionMultiplexer redis, IEnumerable<IJobHandler> handlers, IMeterFactory meters, ILogger<JobEvents> logger)
    {
        _redis = redis;
        _logger = logger;
        _knownTypes = handlers.Select(handler => handler.JobType).Append(MalformedType).ToFrozenSet(StringComparer.Ordinal);
        _meter = meters.Create(WorkerTelemetry.Name);
        _states = _meter.CreateCounter<long>("sit.jobs.events", unit: "{event}", description: "Job state changes by type and state");
        // One count per finished attempt, so succeeded + failed is the attempts run and a chart of either is a rate.
        _outcomes = _meter.CreateCounter<long>(MeterOutcomes, unit: "{attempt}",
            description: "Finished job attempts by type and outcome (succeeded, failed); a failed one also says what became of it (retried, dead_lettered, requeued)");
        _duration = _meter.CreateHistogram(MeterDuration, unit: "s", description: "Time a job attempt ran, to success or failure",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
    }

    /// <summary>A job's state change, on the queue it came from.</summary>
    public void Record(JobEnvelope job, string queue, JobState state, TimeSpan? duration = null, string? detail = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        Record(job.Id, job.Type, job.Attempt, job.ChatId, queue, state, duration, detail);
    }

    /// <summary>A message that is not a job at all; it goes to the dead letters on its first delivery.</summary>
    public void RecordMalformed(string? messageId, string queue) =>
        Record(messageId ?? "?", MalformedType, 0, chatId: null, queue, JobState.DeadLettered, duration: null, "body is not a job");

    private void Record(string jobId, string type, int attempt, Guid? chatId, string queue, JobState state, TimeSpan? duration, string? detail)
    {
        RecordMetrics(_knownTypes.Contains(type) ? type : UnknownType, state, duration);
        if (!_redis.IsConnected)
        {
            return;
        }

        NameValueEntry[] fields =
        [
            new("id", jobId),
            new("type", type),
            new("attempt", attempt),
            new("state", state.ToString()),
            new("at", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture)),
            new("duration_ms", duration?.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture) ?? ""),
            new("detail", detail ?? ""),
            new("chat_id", chatId?.ToString() ?? ""),
            new("queue", queue),
        ];
        try
        {
            _redis.GetDatabase().StreamAdd(StreamKey, fields, maxLength: Capacity, useApproximateMaxLength: true, flags: CommandFlags.FireAndForget);
        }
        catch (RedisException ex)
        {
            LogRedisUnavailable(_logger, ex);
        }
    }

    private void RecordMetrics(string type, JobState state, TimeSpan? duration)
    {
        var typeTag = new KeyValuePair<string, object?>(TypeTag, type);
        _states.Add(1, typeTag, new("sit.job.state", state.ToString()));

        if (duration is { } elapsed && state is JobState.Succeeded or JobState.Failed)
        {
            _duration.Record(elapsed.TotalSeconds, typeTag, new(OutcomeTag, state is JobState.Succeeded ? "succeeded" : "failed"));
        }

        // A failure is counted once its fate is known (the Failed state comes before it), so no attempt counts twice.
        var disposition = state switch
        {
            JobState.Retried => "retried",
            JobState.DeadLettered => "dead_lettered",
            JobState.Requeued => "requeued",
            _ => null,
        };
        if (state is JobState.Succeeded)
        {
            _outcomes.Add(1, typeTag, new(OutcomeTag, "succeeded"));
        }
        else if (disposition is not null)
        {
            _outcomes.Add(1, typeTag, new(OutcomeTag, "failed"), new(DispositionTag, disposition));
        }
    }

    public async Task<IReadOnlyList<JobEventView>> RecentAsync(int count)
    {
        var entries = await _redis.GetDatabase().StreamRangeAsync(StreamKey, "-", "+", count, Order.Descending);
        return [.. entries.Select(entry =>
        {
            string Field(string name) => entry.Values.FirstOrDefault(v => v.Name == name).Value.ToString();
            return new JobEventView(
                entry.Id!,
                Field("id"),
                Field("type"),
                int.TryParse(Field("attempt"), CultureInfo.InvariantCulture, out var a) ? a : 0,
                Field("state"),
                Field("at"),
                double.TryParse(Field("duration_ms"), CultureInfo.InvariantCulture, out var d) ? d : null,
                Field("detail"),
                Guid.TryParse(Field("chat_id"), CultureInfo.InvariantCulture, out var chat) ? chat : null,
                Field("queue"));
        })];
    }

    public void Dispose() => _meter.Dispose();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Redis unavailable: job event not recorded in the stream")]
    private static partial void LogRedisUnavailable(ILogger logger, Exception exception);
}

/// <param name="ChatId">The chat a flush is for; null for jobs that are not about one chat.</param>
/// <param name="Queue">The queue the job came from; empty for events recorded before it was kept.</param>
internal sealed record JobEventView(
    string EventId,
    string JobId,
    string Type,
    int Attempt,
    string State,
    string At,
    double? DurationMs,
    string Detail,
    Guid? ChatId = null,
    string Queue = "");
