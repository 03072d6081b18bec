using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using SitMessenger.Testing;
using SitMessenger.SystemTests.Api;
using SitMessenger.SystemTests.Infrastructure;
using Xunit.Abstractions;

namespace SitMessenger.SystemTests.Pipeline;

/// <summary>
/// RabbitMQ down for 30 s: sends keep answering 2xx (the message is durable in PostgreSQL before the answer; the
/// flush job is best-effort), and once the broker is back every message is flushed, by a retried job or by the
/// Scheduler's sweep, and reads show each once, in order. The test always starts RabbitMQ again.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class BrokerOutageTests(SitMessengerAppFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RecoveryBudget = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan BrokerStartBudget = TimeSpan.FromMinutes(2);
    private const int Senders = 4;

    // A refused send is counted, and the sender waits a little rather than hammer a failing system.
    private static readonly TimeSpan FailureBackoff = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(30);

    [Fact]
    public async Task With_rabbitmq_stopped_for_30_s_every_send_succeeds_everything_is_flushed_within_a_minute_of_its_return_and_the_api_logs_the_outage_once()
    {
        var app = fixture.App;
        using var clients = new PipelineClients(fixture);
        var (api, database) = (clients.Api, clients.Database);
        var (alice, bob) = await clients.UsersAsync();
        var chatId = await api.CreateChatAsync(alice, bob);
        var tag = $"outage-{Guid.NewGuid():N}";
        var workerLogStart = StateFiles.LogLength(app, "worker");
        var apiLogStart = StateFiles.LogLength(app, "api");

        // Before the outage the pipeline works as usual.
        var sent = new ConcurrentDictionary<long, string>(
            await ChatTraffic.SendAllAsync(api, alice, chatId, [.. Enumerable.Range(1, 10).Select(i => ChatTraffic.Text(tag, i))], concurrency: 2));
        await database.UntilFlushedAsync(chatId, sent.Keys.Max(), TimeSpan.FromSeconds(60));

        var failures = new ConcurrentQueue<string>();
        var latencies = new ConcurrentBag<TimeSpan>();
        var clock = Stopwatch.StartNew();
        TimeSpan brokerBack;
        try
        {
            await app.StopResourceAsync("messaging");
            var stopped = app.Status("messaging");
            Assert.True(stopped.State is "Exited" or "Finished", $"messaging is {stopped.State} after StopResourceAsync (exit code {stopped.ExitCode})");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RabbitMQ stopped after {clock.Elapsed.TotalSeconds:0.0} s"));

            var outageStart = clock.Elapsed;
            var next = 10;
            async Task SenderAsync()
            {
                while (clock.Elapsed - outageStart < Outage)
                {
                    var text = ChatTraffic.Text(tag, Interlocked.Increment(ref next));
                    var started = clock.Elapsed;
                    try
                    {
                        var answer = await api.PostMessageAsync(alice, chatId, text);
                        latencies.Add(clock.Elapsed - started);
                        if (answer.Status != HttpStatusCode.Created)
                        {
                            failures.Enqueue(string.Create(CultureInfo.InvariantCulture, $"at {started.TotalSeconds:0.0} s: {answer}"));
                            await Task.Delay(FailureBackoff);
                            continue;
                        }

                        var seq = answer.Body.GetProperty("seq").GetInt64();
                        if (!sent.TryAdd(seq, text))
                        {
                            failures.Enqueue($"seq {seq} answered twice");
                        }

                        // Continuous but not a load test: about 100 sends a second in all.
                        await Task.Delay(Pace);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        failures.Enqueue(string.Create(CultureInfo.InvariantCulture, $"at {started.TotalSeconds:0.0} s, after {(clock.Elapsed - started).TotalSeconds:0.0} s: {ex.GetType().Name} {ex.Message}"));
                        await Task.Delay(FailureBackoff);
                    }
                }
            }

            await Task.WhenAll(Enumerable.Range(0, Senders).Select(_ => Task.Run(SenderAsync)));
        }
        finally
        {
            using var starting = new CancellationTokenSource(BrokerStartBudget);
            await app.StartResourceAsync("messaging", starting.Token);
            brokerBack = clock.Elapsed;
        }

        var duringOutage = sent.Count - 10;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{duringOutage} sends answered 201 while RabbitMQ was down, {failures.Count} did not; slowest send {latencies.DefaultIfEmpty().Max().TotalMilliseconds:0} ms; RabbitMQ back (healthy) at {brokerBack.TotalSeconds:0.0} s"));
        Assert.True(failures.IsEmpty, $"{failures.Count} sends failed while RabbitMQ was down:{Environment.NewLine}{string.Join(Environment.NewLine, failures.Take(10))}");
        Assert.True(duringOutage >= 30, $"only {duringOutage} sends in {Outage.TotalSeconds:0} s: the sends were not continuous");

        using var jobs = new WorkerJobs(app, TimeSpan.FromSeconds(5));
        var lastSeq = sent.Keys.Max();
        var storage = await database.UntilFlushedAsync(chatId, lastSeq, RecoveryBudget, async () =>
            $"{Environment.NewLine}recent job events:{Environment.NewLine}{WorkerJobs.Describe(await jobs.EventsOrNoneAsync(20))}"
            + $"{Environment.NewLine}worker log:{Environment.NewLine}{StateFiles.Tail(StateFiles.LogSince(app, "worker", workerLogStart), 15)}"
            + $"{Environment.NewLine}api log:{Environment.NewLine}{StateFiles.Tail(StateFiles.LogSince(app, "api", apiLogStart), 10)}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"everything flushed {(clock.Elapsed - brokerBack).TotalSeconds:0.0} s after RabbitMQ was back: {storage}"));

        var since = DateTimeOffset.UtcNow - clock.Elapsed;
        var recent = (await jobs.EventsAsync(1000)).Where(e => e.Time >= since && e.Type is "flush-chat" or "sweep-pending").Reverse();
        output.WriteLine("flush and sweep jobs since the outage began:" + Environment.NewLine + WorkerJobs.Describe(recent, 100));

        PipelineDatabase.AssertConsistent(storage, StateFiles.SegmentFolder(app, chatId), "after the outage");
        ChatTraffic.AssertWholeChat(await ChatTraffic.WholeHistoryAsync(api, bob, chatId), sent, "the whole chat after the outage");

        // The Api said so, once each way, though thousands of sends met the outage.
        var log = await OutageLines.UntilRecoveredAsync(app, "api", apiLogStart, "RabbitMQ");
        Assert.True(log.Down == 1 && log.Up == 1, $"{log.Down} outage and {log.Up} recovery lines for RabbitMQ in the Api's log:{Environment.NewLine}{log.Lines}");
    }
}
