using System.Diagnostics.Metrics;
using System.Globalization;
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
}

/// <summary>
/// What happened to each job, for the dashboard's jobs view (what Flower showed): a capped Redis stream shared by all
/// Workers, plus OpenTelemetry metrics. Ids, types, states, timings and errors only; never message content.
/// </summary>
internal sealed partial class JobEvents : IDisposable
{
    public const string StreamKey = "jobs:events";
    public const int Capacity = 2000;

    private readonly IConnectionMultiplexer _redis;
    private readonly ILogger<JobEvents> _logger;
    private readonly Meter _meter;
    private readonly Counter<long> _outcomes;
    private readonly Histogram<double> _duration;

    public JobEvents(IConnectionMultiplexer redis, IMeterFactory meters, ILogger<JobEvents> logger)
    {
        _redis = redis;
        _logger = logger;
        _meter = meters.Create(WorkerTelemetry.Name);
        _outcomes = _meter.CreateCounter<long>("sit.jobs.events", description: "Job state changes by type and state");
        _duration = _meter.CreateHistogram<double>("sit.jobs.duration", unit: "ms", description: "Time from start to success or failure");
    }

    public void Record(string jobId, string type, int attempt, JobState state, double? durationMs = null, string? detail = null)
    {
        _outcomes.Add(1, new("sit.job.type", type), new("sit.job.state", state.ToString()));
        if (durationMs is { } ms && state is JobState.Succeeded or JobState.Failed)
        {
            _duration.Record(ms, new KeyValuePair<string, object?>("sit.job.type", type), new("sit.job.state", state.ToString()));
        }

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
            new("duration_ms", durationMs?.ToString("0.0", CultureInfo.InvariantCulture) ?? ""),
            new("detail", detail ?? ""),
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

    public async Task<IReadOnlyList<JobEventView>> RecentAsync(int count)
    {
        var entries = await _redis.GetDatabase().StreamRangeAsync(StreamKey, "-", "+", count, Order.Descending);
        return [.. entries.Select(entry =>
        {
            string Field(string name) => entry.Values.FirstOrDefault(v => v.Name == name).Value.ToString();
            return new JobEventView(entry.Id!, Field("id"), Field("type"), int.TryParse(Field("attempt"), CultureInfo.InvariantCulture, out var a) ? a : 0,
                Field("state"), Field("at"), double.TryParse(Field("duration_ms"), CultureInfo.InvariantCulture, out var d) ? d : null, Field("detail"));
        })];
    }

    public void Dispose() => _meter.Dispose();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Redis unavailable: job event not recorded in the stream")]
    private static partial void LogRedisUnavailable(ILogger logger, Exception exception);
}

internal sealed record JobEventView(string EventId, string JobId, string Type, int Attempt, string State, string At, double? DurationMs, string Detail);
