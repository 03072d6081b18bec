using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using SitMessenger.SystemTests.Api;
using SitMessenger.SystemTests.Infrastructure;
using Xunit.Abstractions;

namespace SitMessenger.SystemTests.Pipeline;

/// <summary>
/// The flush: a chat's new messages wait in PostgreSQL (and the Redis cache) for the flush delay, then the Worker
/// moves them into a segment file. Readers must never notice: before, during and after, every read is the chat in
/// order, each message once. The shared system runs with a 3 s flush delay (see SitMessengerAppFixture).
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class FlushTests(SitMessengerAppFixture fixture, ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan FlushBudget = TimeSpan.FromSeconds(60);

    // The fixture's flush delay is 3 s; a flush seen sooner than this after the first send was not delayed.
    private static readonly TimeSpan EarliestFlush = TimeSpan.FromSeconds(2.5);

    private readonly PipelineClients _clients = new(fixture);

    private SitApiClient Api => _clients.Api;

    private PipelineDatabase Database => _clients.Database;

    public void Dispose() => _clients.Dispose();

    [Fact]
    public async Task Sent_messages_move_into_segment_files_after_the_flush_delay_and_every_read_meanwhile_shows_each_once_in_order()
    {
        var (alice, bob) = await _clients.UsersAsync();
        var chatId = await Api.CreateChatAsync(alice, bob);
        var tag = $"flush-{Guid.NewGuid():N}";
        var texts = Enumerable.Range(1, 200).Select(i => ChatTraffic.Text(tag, i)).ToList();

        var before = await ChatTraffic.HistoryAsync(Api, bob, chatId, before: null, ChatTraffic.MaxLimit);
        ChatTraffic.AssertConsecutive(before.Messages, 1, new Dictionary<long, string>(), "before any send");
        Assert.Single(before.Messages);

        var clock = Stopwatch.StartNew();
        using var stopReading = new CancellationTokenSource();
        var observations = new ConcurrentQueue<Observation>();
        var reader = Task.Run(() => ReadContinuouslyAsync(bob, chatId, clock, observations, stopReading.Token));

        // 200 sends, 4 at a time, paced so the first flush (3 s after the first send) lands in the middle of them.
        var firstSend = clock.Elapsed;
        IReadOnlyDictionary<long, string> sent;
        try
        {
            sent = await ChatTraffic.SendAllAsync(Api, alice, chatId, texts, concurrency: 4, pauseBetweenSends: TimeSpan.FromMilliseconds(100));
            var lastSeq = sent.Keys.Max();
            Assert.Equal(201, lastSeq);
            var sendsDone = clock.Elapsed;

            var storage = await Database.UntilFlushedAsync(chatId, lastSeq, FlushBudget);
            output.WriteLine($"sends took {(sendsDone - firstSend).TotalSeconds:0.0} s; all flushed after {(clock.Elapsed - firstSend).TotalSeconds:0.0} s: {storage}");

            // The chat view shows everything under message_data now, nothing under cache_messages.
            await Poll.UntilAsync(
                "GET /api/v1/chat/{id}/?limit=500 shows every message under message_data and none under cache_messages",
                TimeSpan.FromSeconds(15),
                () => ChatPartsAsync(bob, chatId),
                parts => parts.Flushed.Count == 201 && parts.Pending.Count == 0,
                parts => $"{parts.Flushed.Count} under message_data, {parts.Pending.Count} under cache_messages");

            // A few more reads after the flush, then stop.
            var readsSoFar = observations.Count;
            await Poll.UntilAsync("five more reads after the flush", TimeSpan.FromSeconds(30), () => Task.FromResult(observations.Count), n => n >= readsSoFar + 10);
        }
        finally
        {
            await stopReading.CancelAsync();
            await reader;
        }

        // Every read, checked against the complete seq → text map.
        var expectedTexts = new[] { SitApiClient.BeginningOfMessages }.Concat(sent.OrderBy(p => p.Key).Select(p => p.Value)).ToList();
        foreach (var observation in observations)
        {
            var context = string.Create(CultureInfo.InvariantCulture, $"read at {observation.At.TotalSeconds:0.000} s ({observation.Kind})");
            if (observation.History is { } history)
            {
                ChatTraffic.AssertConsecutive(history, 1, sent, context);
            }
            else
            {
                var lines = observation.Flushed!.Concat(observation.Pending!).ToList();
                Assert.True(lines.Count <= expectedTexts.Count, $"{context}: {lines.Count} lines, but only {expectedTexts.Count} exist");
                for (var i = 0; i < lines.Count; i++)
                {
                    if (!string.Equals(lines[i], expectedTexts[i], StringComparison.Ordinal))
                    {
                        Assert.Fail($"{context}: line {i} is '{ChatTraffic.Short(lines[i])}', expected '{ChatTraffic.Short(expectedTexts[i])}' "
                            + $"({observation.Flushed!.Count} flushed + {observation.Pending!.Count} pending)");
                    }
                }
            }
        }

        var details = observations.Where(o => o.History is null).ToList();
        var firstFlushedRead = details.FirstOrDefault(o => o.Flushed!.Count > 0);
        var mixed = details.Count(o => o.Flushed!.Count > 0 && o.Pending!.Count > 0);
        output.WriteLine($"{observations.Count} reads ({details.Count} chat views, {mixed} of them part flushed, part pending); "
            + $"first flushed message seen {(firstFlushedRead is null ? "never" : $"{(firstFlushedRead.At - firstSend).TotalSeconds:0.00} s")} after the first send");
        Assert.True(observations.Count(o => o.History is not null && o.History.Count == 201) > 0, "no history read saw the whole chat");
        Assert.NotNull(firstFlushedRead);
        Assert.True(firstFlushedRead.At - firstSend >= EarliestFlush,
            $"messages were in a segment {(firstFlushedRead.At - firstSend).TotalSeconds:0.00} s after the first send: sooner than the flush delay");
        Assert.True(mixed > 0, "no read happened while the chat was part flushed, part pending: the test did not read during a flush");

        // The segment files exist, and the rows describe exactly the chat.
        var final = await Database.StorageAsync(chatId);
        PipelineDatabase.AssertConsistent(final, StateFiles.SegmentFolder(fixture.App, chatId), "after the flush");
        Assert.True(StateFiles.SegmentFiles(fixture.App, chatId).Count >= 1, $"no .seg file in {StateFiles.SegmentFolder(fixture.App, chatId)}");
        ChatTraffic.AssertWholeChat(await ChatTraffic.WholeHistoryAsync(Api, alice, chatId), sent, "the whole chat after the flush");
    }

    [Fact]
    public async Task The_last_50_messages_of_a_chat_spread_over_several_segments_are_read_whole_and_in_order()
    {
        var (alice, bob) = await _clients.UsersAsync();
        var chatId = await Api.CreateChatAsync(alice, bob);
        var tag = $"segments-{Guid.NewGuid():N}";
        var sent = new Dictionary<long, string>();

        // Three bursts, each flushed into its own segment, then ten more that stay pending for a moment.
        for (var burst = 0; burst < 3; burst++)
        {
            var texts = Enumerable.Range(burst * 30 + 1, 30).Select(i => ChatTraffic.Text(tag, i)).ToList();
            foreach (var (seq, text) in await ChatTraffic.SendAllAsync(Api, alice, chatId, texts, concurrency: 3))
            {
                sent.Add(seq, text);
            }

            await Database.UntilFlushedAsync(chatId, sent.Keys.Max(), FlushBudget);
        }

        foreach (var (seq, text) in await ChatTraffic.SendAllAsync(Api, alice, chatId, [.. Enumerable.Range(91, 10).Select(i => ChatTraffic.Text(tag, i))], concurrency: 2))
        {
            sent.Add(seq, text);
        }

        var last = sent.Keys.Max();
        Assert.Equal(101, last);
        var storage = await Database.StorageAsync(chatId);
        output.WriteLine($"storage when read: {storage}");
        var windowFirst = last - 49;
        Assert.True(storage.Segments.Count(s => s.LastSeq >= windowFirst) >= 2,
            $"the last 50 messages ({windowFirst}..{last}) should span at least two segments: {storage}");

        await AssertLast50Async(bob, chatId, sent, windowFirst, last, "with the last ten pending");

        // Once the last ten are flushed too, the same window reads the same.
        storage = await Database.UntilFlushedAsync(chatId, last, FlushBudget);
        Assert.True(storage.Segments.Count >= 3, $"expected several segments: {storage}");
        PipelineDatabase.AssertConsistent(storage, StateFiles.SegmentFolder(fixture.App, chatId), "after the bursts");
        await AssertLast50Async(alice, chatId, sent, windowFirst, last, "with everything flushed");
    }

    private async Task AssertLast50Async(TestUser reader, string chatId, IReadOnlyDictionary<long, string> sent, long windowFirst, long last, string when)
    {
        var page = await ChatTraffic.HistoryAsync(Api, reader, chatId, before: null, limit: 50);
        Assert.Equal(50, page.Messages.Count);
        ChatTraffic.AssertConsecutive(page.Messages, windowFirst, sent, $"last 50 {when}");
        Assert.Equal(last, page.Messages[^1].Seq);
        Assert.True(page.HasMore, $"last 50 {when}: has_more should be true, 51 messages are older");

        var older = await ChatTraffic.HistoryAsync(Api, reader, chatId, before: windowFirst, limit: 50);
        ChatTraffic.AssertConsecutive(older.Messages, 2, sent, $"the 50 before seq {windowFirst} {when}");
        Assert.Equal(50, older.Messages.Count);
        Assert.True(older.HasMore, $"seq 1 is still older ({when})");

        var rest = await ChatTraffic.HistoryAsync(Api, reader, chatId, before: 2, limit: 50);
        ChatTraffic.AssertConsecutive(rest.Messages, 1, sent, $"the first line {when}");
        Assert.Single(rest.Messages);
        Assert.False(rest.HasMore, $"nothing is older than seq 1 ({when})");

        var view = await Api.GetAsync(SitApiClient.ChatPath(chatId) + "?limit=50", reader.Access);
        ApiAssert.Status(HttpStatusCode.OK, view);
        var lines = SitApiClient.Lines(view.Body).Select(l => l.Message).ToList();
        Assert.Equal(Enumerable.Range(0, 50).Select(i => sent[windowFirst + i]).ToList(), lines);
    }

    private async Task ReadContinuouslyAsync(TestUser reader, string chatId, Stopwatch clock, ConcurrentQueue<Observation> observations, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var history = await ChatTraffic.HistoryAsync(Api, reader, chatId, before: null, ChatTraffic.MaxLimit);
            Assert.False(history.HasMore, $"has_more with fewer than {ChatTraffic.MaxLimit} messages");
            // Checked at once for shape (order, gaps, repeats); texts once every send has answered.
            ChatTraffic.AssertConsecutive(history.Messages, 1, new Dictionary<long, string>(), "a read during the sends", allowUnknown: true);
            observations.Enqueue(new Observation(clock.Elapsed, "history", history.Messages, null, null));

            var parts = await ChatPartsAsync(reader, chatId);
            observations.Enqueue(new Observation(clock.Elapsed, "chat view", null, parts.Flushed, parts.Pending));
        }
    }

    private async Task<(IReadOnlyList<string> Flushed, IReadOnlyList<string> Pending)> ChatPartsAsync(TestUser reader, string chatId)
    {
        var answer = await Api.GetAsync(SitApiClient.ChatPath(chatId) + "?limit=500", reader.Access);
        ApiAssert.Status(HttpStatusCode.OK, answer);
        IReadOnlyList<string> Part(string name) =>
            [.. answer.Body.GetProperty(name).GetProperty("messages").EnumerateArray().Select(m => SitApiClient.Line(m).Message)];
        return (Part("message_data"), Part("cache_messages"));
    }

    private sealed record Observation(TimeSpan At, string Kind, IReadOnlyList<HistoryMessage>? History, IReadOnlyList<string>? Flushed, IReadOnlyList<string>? Pending);
}
