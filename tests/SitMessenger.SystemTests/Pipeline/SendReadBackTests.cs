using System.Net;
using SitMessenger.SystemTests.Api;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.Pipeline;

/// <summary>
/// A PATCH whose message committed answers its success even when the chat cannot be read back afterwards: the
/// read-back is made to fail for real by damaging the chat's segment file, which every read of the chat needs.
/// An error there would tell the client to send again, and the message would be stored twice.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class SendReadBackTests(SitMessengerAppFixture fixture)
{
    [Fact]
    public async Task A_patch_whose_chat_cannot_be_read_back_after_the_commit_answers_200_with_the_new_message()
    {
        var app = fixture.App;
        using var clients = new PipelineClients(fixture);
        var (api, database) = (clients.Api, clients.Database);
        var (alice, bob) = await clients.UsersAsync();
        var chatId = await api.CreateChatAsync(alice, bob);
        var tag = $"readback-{Guid.NewGuid():N}";

        // POST /messages/ reads nothing back, so no Api process has the segment cached before it is damaged.
        var sent = await ChatTraffic.SendAllAsync(api, alice, chatId, [.. Enumerable.Range(1, 5).Select(i => ChatTraffic.Text(tag, i))], concurrency: 1);
        var storage = await database.UntilFlushedAsync(chatId, sent.Keys.Max(), TimeSpan.FromSeconds(60));
        var segment = Assert.Single(storage.Segments);
        var path = Path.Combine(app.StateDirectory, "segments", segment.Location);
        var original = await File.ReadAllBytesAsync(path);
        var damaged = (byte[])original.Clone();
        damaged[damaged.Length / 2] ^= 0x5A;

        var text = $"{tag} sent once";
        ApiResponse patched;
        try
        {
            await File.WriteAllBytesAsync(path, damaged);
            Assert.Equal(HttpStatusCode.InternalServerError, (await api.GetChatAsync(bob, chatId)).Status);

            patched = await api.PatchMessageAsync(alice, chatId, text);
        }
        finally
        {
            await File.WriteAllBytesAsync(path, original);
        }

        ApiAssert.Status(HttpStatusCode.OK, patched);
        Assert.Equal(chatId, patched.Body.GetProperty("id").GetString());
        Assert.Contains(SitApiClient.Lines(patched.Body), line => line.Message == text && line.User == alice.Username);

        // Stored exactly once, after the five before it.
        var history = await ChatTraffic.WholeHistoryAsync(api, bob, chatId);
        Assert.Single(history, m => m.Message == text);
        Assert.Equal(text, history[^1].Message);
    }
}
