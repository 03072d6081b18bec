using System.Net;
using Npgsql;
using SitMessenger.SystemTests.Infrastructure;
using SitMessenger.SystemTests.Pipeline;

namespace SitMessenger.SystemTests.Api;

/// <summary>
/// DELETE /api/v1/chat/{id}/ by a member is "leave": the chat leaves that member's list and stays, with its messages,
/// for the others, who see the member gone from <c>owner</c> and a line saying so; the last member to leave deletes
/// it with everything PostgreSQL holds of it.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class ChatLeaveTests(SitMessengerAppFixture fixture)
{
    private const string NotFound = """{"detail": "Not found."}""";

    private readonly SitApiClient _api = new(fixture.Gateway);

    private async Task<List<string>> ChatIdsAsync(TestUser user)
    {
        var chats = await _api.GetAsync("/api/v1/chat/", user.Access);
        ApiAssert.Status(HttpStatusCode.OK, chats);
        return [.. chats.Body.EnumerateArray().Select(c => c.GetProperty("id").GetString()!)];
    }

    [Fact]
    public async Task Leaving_a_chat_keeps_it_and_its_messages_for_the_other_members()
    {
        var users = await _api.SharedUsersAsync();
        var (leaver, stayer, third) = (users[0], users[1], users[2]);
        var chatId = await _api.CreateChatAsync(leaver, stayer, third);
        ApiAssert.Status(HttpStatusCode.OK, await _api.PatchMessageAsync(leaver, chatId, "written before leaving"));
        ApiAssert.Status(HttpStatusCode.OK, await _api.PatchMessageAsync(stayer, chatId, "an answer"));
        for (var i = 0; i < 4; i++)
        {
            // Every Api replica now holds the chat's members as PATCH answers showed them.
            var before = await _api.PatchMessageAsync(third, chatId, $"third's line {i}");
            Assert.Equal(Sorted(leaver.Id, stayer.Id, third.Id), OwnerIds(before.Body));
        }

        var left = await _api.DeleteAsync(SitApiClient.ChatPath(chatId), leaver.Access);
        ApiAssert.Status(HttpStatusCode.NoContent, left);
        Assert.Equal("", left.Text);

        // Gone for the leaver, as a deleted chat was.
        Assert.DoesNotContain(chatId, await ChatIdsAsync(leaver));
        ApiAssert.Answer(HttpStatusCode.NotFound, NotFound, await _api.GetChatAsync(leaver, chatId));
        ApiAssert.Answer(HttpStatusCode.NotFound, NotFound, await _api.PatchMessageAsync(leaver, chatId, "after leaving"));
        ApiAssert.Answer(HttpStatusCode.NotFound, NotFound, await _api.DeleteAsync(SitApiClient.ChatPath(chatId), leaver.Access));

        // Kept for the others: in their lists without the leaver, with every message, and a line saying who left.
        foreach (var member in new[] { stayer, third })
        {
            var listed = (await _api.GetAsync("/api/v1/chat/", member.Access)).Body.EnumerateArray().Single(c => c.GetProperty("id").GetString() == chatId);
            Assert.Equal(Sorted(stayer.Id, third.Id), Sorted([.. listed.GetProperty("owner").EnumerateArray().Select(o => o.GetString()!)]));

            var chat = await _api.GetChatAsync(member, chatId);
            ApiAssert.Status(HttpStatusCode.OK, chat);
            Assert.Equal(Sorted(stayer.Id, third.Id), OwnerIds(chat.Body));
            var lines = SitApiClient.Lines(chat.Body);
            Assert.Equal(
                ["written before leaving", "an answer", .. Enumerable.Range(0, 4).Select(i => $"third's line {i}"), $"{leaver.Username} left the chat"],
                SitApiClient.Written(lines));
            Assert.Equal("", lines[^1].User);
        }

        // And it still works for them.
        var after = await _api.PatchMessageAsync(third, chatId, "after they left");
        ApiAssert.Status(HttpStatusCode.OK, after);
        // The answer shows the members as they are now, not as the replica last held them.
        Assert.Equal(Sorted(stayer.Id, third.Id), OwnerIds(after.Body));
        Assert.Equal("after they left", (await _api.ReadLinesAsync(stayer, chatId))[^1].Message);
    }

    [Fact]
    public async Task The_last_member_leaving_deletes_the_chat_with_its_pending_and_segment_rows()
    {
        using var clients = new PipelineClients(fixture);
        var (alice, bob) = await clients.UsersAsync();
        var chatId = await _api.CreateChatAsync(alice, bob);
        var sent = await ChatTraffic.SendAllAsync(clients.Api, alice, chatId, ["flushed one", "flushed two"], concurrency: 1);
        await clients.Database.UntilFlushedAsync(chatId, sent.Keys.Max(), TimeSpan.FromSeconds(60));
        ApiAssert.Status(HttpStatusCode.OK, await _api.PatchMessageAsync(bob, chatId, "still pending"));

        ApiAssert.Status(HttpStatusCode.NoContent, await _api.DeleteAsync(SitApiClient.ChatPath(chatId), alice.Access));
        var halfway = await RowsAsync(chatId);
        Assert.Equal(1, halfway.Chats);
        Assert.Equal(1, halfway.Members);
        Assert.True(halfway.Segments >= 1, $"the flushed messages' segment went with the first leaver: {halfway}");

        ApiAssert.Status(HttpStatusCode.NoContent, await _api.DeleteAsync(SitApiClient.ChatPath(chatId), bob.Access));
        Assert.Equal(new ChatRows(0, 0, 0, 0), await RowsAsync(chatId));
        ApiAssert.Answer(HttpStatusCode.NotFound, NotFound, await _api.GetChatAsync(bob, chatId));
        ApiAssert.Answer(HttpStatusCode.NotFound, NotFound, await _api.DeleteAsync(SitApiClient.ChatPath(chatId), bob.Access));
        Assert.DoesNotContain(chatId, await ChatIdsAsync(bob));
    }

    [Fact]
    public async Task Leaving_someone_elses_chat_or_an_unknown_one_is_404_and_changes_nothing()
    {
        var users = await _api.SharedUsersAsync();
        var (owner, member, outsider) = (users[0], users[1], users[2]);
        var chatId = await _api.CreateChatAsync(owner, member);
        var before = await _api.ReadLinesAsync(member, chatId);

        ApiAssert.Answer(HttpStatusCode.NotFound, NotFound, await _api.DeleteAsync(SitApiClient.ChatPath(chatId), outsider.Access));
        ApiAssert.Answer(HttpStatusCode.NotFound, NotFound, await _api.DeleteAsync(SitApiClient.ChatPath(Guid.NewGuid().ToString()), owner.Access));
        ApiAssert.Answer(HttpStatusCode.NotFound, NotFound, await _api.DeleteAsync(SitApiClient.ChatPath("not-a-uuid"), owner.Access));

        Assert.Equal(before, await _api.ReadLinesAsync(member, chatId));
        Assert.Equal(2, (await _api.GetChatAsync(owner, chatId)).Body.GetProperty("owner").GetArrayLength());
    }

    private static List<string> Sorted(params string[] ids) => [.. ids.Order(StringComparer.Ordinal)];

    private static List<string> OwnerIds(System.Text.Json.JsonElement chat) =>
        Sorted([.. chat.GetProperty("owner").EnumerateArray().Select(o => o.GetProperty("id").GetString()!)]);

    private sealed record ChatRows(long Chats, long Members, long Pending, long Segments);

    private async Task<ChatRows> RowsAsync(string chatId)
    {
        await using var connection = new NpgsqlConnection(fixture.App.GetConnectionString("sitdb") + ";Pooling=false;Timeout=10");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT (SELECT count(*) FROM chats WHERE id = @id), (SELECT count(*) FROM chat_members WHERE chat_id = @id),
                   (SELECT count(*) FROM pending_messages WHERE chat_id = @id), (SELECT count(*) FROM chat_segments WHERE chat_id = @id)
            """, connection);
        command.Parameters.AddWithValue("id", Guid.Parse(chatId));
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return new ChatRows(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }
}
