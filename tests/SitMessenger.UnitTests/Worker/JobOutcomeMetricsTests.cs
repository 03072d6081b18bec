using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using SitMessenger.Chat.Messaging;
using SitMessenger.Worker.Jobs;
using StackExchange.Redis;

namespace SitMessenger.UnitTests.Worker;

/// <summary>What the Aspire dashboard charts: one outcome per finished attempt, durations in seconds, few tag values.</summary>
public sealed class JobOutcomeMetricsTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    // Nothing listens on port 1: the stream is skipped, as when Redis is down, and only the metrics remain.
    private readonly ConnectionMultiplexer _redis = ConnectionMultiplexer.Connect("127.0.0.1:1,abortConnect=false,connectTimeout=100");
    private readonly MeterListener _listener = new();
    private readonly List<(string Instrument, double Value, Dictionary<string, string?> Tags)> _measurements = [];
    private readonly JobEvents _events;

    public JobOutcomeMetricsTests()
    {
        var meters = _services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == meters)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
        _events = new JobEvents(_redis, [new Handler(JobTypes.CompactSegments)], meters, NullLogger<JobEvents>.Instance);
    }

    [Fact]
    public void Each_finished_attempt_counts_once_as_succeeded_or_failed_and_a_failure_says_what_became_of_it()
    {
        var job = JobEnvelope.Create(JobTypes.CompactSegments, null, TimeProvider.System);

        _events.Record(job, JobQueues.Jobs, JobState.Received);
        _events.Record(job, JobQueues.Jobs, JobState.Started);
        _events.Record(job, JobQueues.Jobs, JobState.Failed, TimeSpan.FromMilliseconds(1500), "boom");
        _events.Record(job, JobQueues.Jobs, JobState.Retried, detail: "attempt 2 in 1 s");
        _events.Record(job with { Attempt = 2 }, JobQueues.Jobs, JobState.Failed, TimeSpan.FromMilliseconds(10), "boom");
        _events.Record(job with { Attempt = 2 }, JobQueues.Jobs, JobState.DeadLettered, detail: "boom");
        _events.Record(job, JobQueues.Jobs, JobState.Succeeded, TimeSpan.FromMilliseconds(250), "merged 3 segments");

        var outcomes = Measured(JobEvents.MeterOutcomes);
        Assert.Equal(3, outcomes.Count);
        Assert.Equal(("failed", "retried"), (outcomes[0].Tags[JobEvents.OutcomeTag], outcomes[0].Tags[JobEvents.DispositionTag]));
        Assert.Equal(("failed", "dead_lettered"), (outcomes[1].Tags[JobEvents.OutcomeTag], outcomes[1].Tags[JobEvents.DispositionTag]));
        Assert.Equal("succeeded", outcomes[2].Tags[JobEvents.OutcomeTag]);
        Assert.False(outcomes[2].Tags.ContainsKey(JobEvents.DispositionTag));
        Assert.All(outcomes, o => Assert.Equal(JobTypes.CompactSegments, o.Tags[JobEvents.TypeTag]));

        var durations = Measured(JobEvents.MeterDuration);
        Assert.Equal([1.5, 0.01, 0.25], durations.Select(d => d.Value));
        Assert.Equal(["failed", "failed", "succeeded"], durations.Select(d => d.Tags[JobEvents.OutcomeTag]));
    }

    [Fact]
    public void A_job_type_no_handler_runs_is_tagged_unknown_so_a_stray_message_cannot_add_series()
    {
        _events.Record(JobEnvelope.Create("made-up-" + Guid.NewGuid(), null, TimeProvider.System), JobQueues.Jobs, JobState.DeadLettered, detail: "unknown job type");
        _events.RecordMalformed("m-1", JobQueues.Jobs);

        var outcomes = Measured(JobEvents.MeterOutcomes);
        Assert.Equal([JobEvents.UnknownType, JobEvents.MalformedType], outcomes.Select(o => o.Tags[JobEvents.TypeTag]));
        Assert.All(outcomes, o => Assert.Equal("dead_lettered", o.Tags[JobEvents.DispositionTag]));
    }

    public void Dispose()
    {
        _listener.Dispose();
        _events.Dispose();
        _redis.Dispose();
        _services.Dispose();
    }

    private List<(string Instrument, double Value, Dictionary<string, string?> Tags)> Measured(string instrument)
    {
        lock (_measurements)
        {
            return [.. _measurements.Where(m => m.Instrument == instrument)];
        }
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value?.ToString();
        }

        lock (_measurements)
        {
            _measurements.Add((instrument.Name, value, copy));
        }
    }

    private sealed class Handler(string type) : IJobHandler
    {
        public string JobType => type;

        public Task<string> RunAsync(JobEnvelope job, CancellationToken cancellationToken) => Task.FromResult("");
    }
}
