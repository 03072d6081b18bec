using System.Diagnostics;
using System.Globalization;
using SitMessenger.SystemTests.Infrastructure;
using Xunit.Abstractions;

namespace SitMessenger.SystemTests.Pipeline;

/// <summary>
/// kill -9 of the Worker in the middle of a flush: the AppHost restarts it, RabbitMQ hands the unacknowledged flush
/// job to the new process, and the chat ends up flushed with every message exactly once: no gap, no overlap, nothing
/// lost, nothing served twice.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class WorkerCrashTests(SitMessengerAppFixture fixture, ITestOutputHelper output)
{
    private const int MessageCount = 3000;
    private const int Senders = 16;

    // Only a flush that starts after this many sends is killed: by then each flush moves hundreds of messages.
    private const int KillAfterSends = 1000;

    private const int MaxBursts = 3;

    // After a burst's last send, its last flush comes within the flush delay (3 s); a little longer to see it start.
    private static readonly TimeSpan LastFlushWait = TimeSpan.FromSeconds(6);

    private static readonly TimeSpan RestartBudget = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan FlushBudget = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_worker_killed_in_the_middle_of_a_flush_is_restarted_and_the_chat_ends_up_flushed_with_every_message_once()
    {
        var app = fixture.App;
        using var clients = new PipelineClients(fixture);
        var (api, database) = (clients.Api, clients.Database);
        var (alice, bob) = await clients.UsersAsync();
        var chatId = await api.CreateChatAsync(alice, bob);
        var tag = $"crash-{Guid.NewGuid():N}";
        var segmentFolder = StateFiles.SegmentFolder(app, chatId);
        var workerLogStart = StateFiles.LogLength(app, "worker");
        using var jobs = new WorkerJobs(app, TimeSpan.FromSeconds(3));

        var before = app.Status("worker");
        Assert.True(before.ProcessId is not null, $"worker has no process: {before.State} {before.Health}");

        var clock = Stopwatch.StartNew();
        var sent = new Dictionary<long, string>();
        Kill? kill = null;

        // Watch the Worker's job events (and the chat's segment folder) and kill it the moment a flush is under way.
        // A flush seen only once it has finished is no use: then another burst is sent, and watched, up to MaxBursts.
        for (var burst = 0; kill is null && burst < MaxBursts; burst++)
        {
            // Long texts make each flush move megabytes: a wider window to kill it in.
            var texts = Enumerable.Range(burst * MessageCount + 1, MessageCount).Select(i => ChatTraffic.Text(tag, i, length: 1000)).ToList();
            var sentCount = 0;
            var sending = ChatTraffic.SendAllAsync(api, alice, chatId, texts, Senders, onSent: n => Volatile.Write(ref sentCount, n));
            var sendsDone = (TimeSpan?)null;
            while (kill is null)
            {
                if (sending.IsCompleted)
                {
                    await sending; // Shows why a send failed, if one did.
                    sendsDone ??= clock.Elapsed;
                    if (clock.Elapsed - sendsDone > LastFlushWait)
                    {
                        break;
                    }
                }

                if (Volatile.Read(ref sentCount) < KillAfterSends)
                {
                    await Task.Delay(50);
                    continue;
                }

                var recent = await jobs.EventsOrNoneAsync(30);
                var running = recent.FirstOrDefault(e => e.Type == "flush-chat" && e.State == "Started"
                    && !recent.Any(o => o.JobId == e.JobId && o.Attempt == e.Attempt && o.State is "Succeeded" or "Failed"));
                var temporary = Directory.Exists(segmentFolder) && Directory.EnumerateFiles(segmentFolder, "*.tmp").Any();
                if (running is not null || temporary)
                {
                    using var process = Process.GetProcessById(app.ServiceProcessId("worker")!.Value);
                    process.Kill();
                    kill = new Kill(clock.Elapsed, burst + 1, running?.JobId, temporary, sent.Count + Volatile.Read(ref sentCount), await database.StorageAsync(chatId));
                    await process.WaitForExitAsync();
                    break;
                }

                await Task.Delay(5);
            }

            // The sends never depended on the Worker.
            foreach (var (seq, text) in await sending)
            {
                sent.Add(seq, text);
            }
        }

        Assert.True(kill is not null,
            $"no flush of the chat was seen under way in {MaxBursts} bursts of {MessageCount} messages; recent events:{Environment.NewLine}"
            + WorkerJobs.Describe(await jobs.EventsOrNoneAsync(40)));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"killed worker pid {before.ProcessId} at {kill.At.TotalSeconds:0.00} s in burst {kill.Burst}, {kill.Sent} sent, flush job {kill.JobId ?? "(seen as a .tmp file)"} under way, temporary file {kill.Temporary}; storage then: {kill.Storage}"));

        var lastSeq = sent.Count + 1L;
        Assert.Equal(lastSeq, sent.Keys.Max());
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"all {sent.Count} sends answered 201 after {clock.Elapsed.TotalSeconds:0.0} s"));

        var after = await Poll.UntilRestartedAsync(app, "worker", before.ProcessId, RestartBudget);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"worker back as pid {after.ProcessId} at {clock.Elapsed.TotalSeconds:0.0} s"));

        var storage = await database.UntilFlushedAsync(chatId, lastSeq, FlushBudget, async () =>
            $"{Environment.NewLine}recent job events:{Environment.NewLine}{WorkerJobs.Describe(await jobs.EventsOrNoneAsync(30))}"
            + $"{Environment.NewLine}worker log:{Environment.NewLine}{StateFiles.Tail(StateFiles.LogSince(app, "worker", workerLogStart))}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"flushed at {clock.Elapsed.TotalSeconds:0.0} s: {storage}"));

        // The segments cover 1..last_seq exactly once, each row's file exists, and sum + pending = last_seq.
        PipelineDatabase.AssertConsistent(storage, segmentFolder, "after the crash");

        // Every message readable once and in order.
        var history = await ChatTraffic.WholeHistoryAsync(api, bob, chatId);
        ChatTraffic.AssertWholeChat(history, sent, "the whole chat after the crash");

        // What happened to the killed job, and what the crash left behind (orphans are removed after a grace period).
        var referenced = storage.Segments.Select(s => Path.GetFileName(s.Location)).ToHashSet(StringComparer.Ordinal);
        var leftovers = Directory.EnumerateFiles(segmentFolder).Select(Path.GetFileName).Where(name => !referenced.Contains(name!)).ToList();
        var events = await jobs.EventsAsync(2000);
        var redelivered = kill.JobId is not null && events.Any(e => e.JobId == kill.JobId && e.State == "Received" && e.Time > DateTimeOffset.UtcNow - clock.Elapsed + kill.At);
        output.WriteLine($"killed job redelivered to the new worker: {redelivered}; files no row points to: {(leftovers.Count == 0 ? "none" : string.Join(", ", leftovers))}");
        output.WriteLine("flush jobs since the test began:" + Environment.NewLine
            + WorkerJobs.Describe(events.Where(e => e.Type == "flush-chat" && e.Time > DateTimeOffset.UtcNow - clock.Elapsed).Reverse(), 200));
    }

    private sealed record Kill(TimeSpan At, int Burst, string? JobId, bool Temporary, int Sent, ChatStorage Storage);
}
