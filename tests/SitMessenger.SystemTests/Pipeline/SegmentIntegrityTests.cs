using System.Net;
using SitMessenger.SystemTests.Api;
using SitMessenger.SystemTests.Infrastructure;
using Xunit.Abstractions;

namespace SitMessenger.SystemTests.Pipeline;

/// <summary>
/// A segment file damaged on disk is detected (its SHA-256 no longer matches) and reported: the read answers 500
/// with a detail that says so, the Api's log names the file, and none of its content is served. The test restores
/// the file afterwards, and the chat reads whole again.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class SegmentIntegrityTests(SitMessengerAppFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task A_segment_file_with_a_flipped_byte_is_refused_with_an_integrity_error_and_logged_by_name_not_served()
    {
        var app = fixture.App;
        using var clients = new PipelineClients(fixture);
        var (api, database) = (clients.Api, clients.Database);
        var (alice, bob) = await clients.UsersAsync();
        var chatId = await api.CreateChatAsync(alice, bob);
        var tag = $"integrity-{Guid.NewGuid():N}";

        // Sent with POST /messages/, which answers only the message: nothing reads (and so caches) the segment before it is damaged.
        var sent = await ChatTraffic.SendAllAsync(api, alice, chatId, [.. Enumerable.Range(1, 20).Select(i => ChatTraffic.Text(tag, i, length: 200))], concurrency: 2);
        var storage = await database.UntilFlushedAsync(chatId, sent.Keys.Max(), TimeSpan.FromSeconds(60));
        var segment = Assert.Single(storage.Segments);
        var path = Path.Combine(app.StateDirectory, "segments", segment.Location);
        Assert.True(File.Exists(path), $"segment row points at {path}, which does not exist");
        Assert.Contains(path, StateFiles.SegmentFiles(app, chatId));

        var original = await File.ReadAllBytesAsync(path);
        var damaged = (byte[])original.Clone();
        var offset = damaged.Length / 2;
        damaged[offset] ^= 0x5A;
        output.WriteLine($"flipping byte {offset} of {damaged.Length} in {segment.Location}");
        var apiLogStart = StateFiles.LogLength(app, "api");

        try
        {
            await File.WriteAllBytesAsync(path, damaged);

            var history = await api.GetAsync(ChatTraffic.HistoryPath(chatId, before: null, ChatTraffic.MaxLimit), bob.Access);
            AssertIntegrityError(history, tag, "GET messages/");
            var view = await api.GetAsync(SitApiClient.ChatPath(chatId), alice.Access);
            AssertIntegrityError(view, tag, "GET chat");

            var fileName = Path.GetFileName(segment.Location);
            var log = await Poll.UntilAsync(
                $"the api log names the damaged segment {fileName}",
                TimeSpan.FromSeconds(10),
                () => Task.FromResult(StateFiles.LogSince(app, "api", apiLogStart)),
                text => text.Contains(fileName, StringComparison.Ordinal),
                text => $"api log since the damage:{Environment.NewLine}{StateFiles.Tail(text, 40)}");
            var line = log.Split('\n').First(l => l.Contains(fileName, StringComparison.Ordinal));
            output.WriteLine($"api log: {line.Trim()}");
            Assert.DoesNotContain(tag, log, StringComparison.Ordinal);
        }
        finally
        {
            await File.WriteAllBytesAsync(path, original);
        }

        // Restored: the chat reads whole and in order again (a failed verification was not cached).
        ChatTraffic.AssertWholeChat(await ChatTraffic.WholeHistoryAsync(api, bob, chatId), sent, "the chat after its segment was restored");
    }

    private static void AssertIntegrityError(ApiResponse answer, string tag, string what)
    {
        ApiAssert.Status(HttpStatusCode.InternalServerError, answer);
        Assert.True(answer.Body.ValueKind == System.Text.Json.JsonValueKind.Object && answer.Body.TryGetProperty("detail", out var detail)
            && detail.GetString() is { } text && text.Contains("integrity", StringComparison.OrdinalIgnoreCase),
            $"{what}: expected a JSON detail mentioning integrity, got {answer}");
        Assert.DoesNotContain(tag, answer.Text, StringComparison.Ordinal);
    }
}
