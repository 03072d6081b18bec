using System.Net;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SitMessenger.SystemTests.Api;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.RealTime;

/// <summary>Typing, read receipts and unread counts; and what the hub refuses: others' chats, bad bodies, floods, too many connections.</summary>
[Collection(SystemCollection.Name)]
public sealed class RealTimeReadAndLimitsTests(SitMessengerAppFixture fixture)
{
    private readonly SitApiClient _api = new(fixture.Gateway);

    [Fact]
    public async Task Typing_and_read_receipts_reach_the_other_members_and_the_chat_list_counts_unread()
    {
        var users = await RealTimeSetup.UsersAsync(_api);
        var (alice, bob) = (users[0], users[1]);
        var chatId = await RealTimeSetup.CreateChatAsync(_api, alice, bob);
        var replicas = RealTimeSetup.ApiReplicas(fixture);
        await using var aliceClient = await ChatHubClient.ConnectAsync(replicas[0], alice.Access);
        await using var bobClient = await ChatHubClient.ConnectAsync(replicas[1], bob.Access);

        await aliceClient.TypingAsync(chatId);
        await ChatHubClient.WaitUntilAsync(() => bobClient.Typing(chatId).Count == 1, "bob hearing alice type");
        Assert.Equal(new HubTyping(chatId, alice.Username, Guid.Parse(alice.Id), 5000), bobClient.Typing(chatId)[0]);

        await bobClient.SendAsync(chatId, "one");
        await bobClient.SendAsync(chatId, "two");
        Assert.Equal((2L, 3L), await UnreadAsync(alice, chatId));
        Assert.Equal((0L, 3L), await UnreadAsync(bob, chatId));

        var read = await _api.PostAsync($"/api/v1/chat/{chatId}/read/", new { seq = 2 }, alice.Access);
        ApiAssert.Answer(HttpStatusCode.OK, $$"""{"chat_id": "{{chatId}}", "read_seq": 2}""", read);
        Assert.Equal((1L, 3L), await UnreadAsync(alice, chatId));
        Assert.Equal(new HubReadResult(chatId, 3), await aliceClient.MarkReadAsync(chatId, 3));
        Assert.Equal((0L, 3L), await UnreadAsync(alice, chatId));
        // A late, older receipt lowers nothing.
        Assert.Equal(new HubReadResult(chatId, 3), await aliceClient.MarkReadAsync(chatId, 2));

        await ChatHubClient.WaitUntilAsync(() => bobClient.Reads(chatId).Count == 3, "bob seeing alice's receipts");
        Assert.Equal([2L, 3L, 3L], bobClient.Reads(chatId).Select(r => r.Seq));
        Assert.All(bobClient.Reads(chatId), r => Assert.Equal((alice.Username, Guid.Parse(alice.Id)), (r.User, r.UserId)));
        Assert.Empty(aliceClient.Typing(chatId));

        // Bad read marks: DRF errors, nothing changed.
        ApiAssert.Answer(HttpStatusCode.BadRequest, """{"seq": ["This field is required."]}""", await _api.PostAsync($"/api/v1/chat/{chatId}/read/", new { }, alice.Access));
        ApiAssert.FieldErrors("seq", await _api.PostAsync($"/api/v1/chat/{chatId}/read/", new { seq = "three" }, alice.Access));
        ApiAssert.FieldErrors("seq", await _api.PostAsync($"/api/v1/chat/{chatId}/read/", new { seq = 99 }, alice.Access));
        var stranger = users[3];
        ApiAssert.Answer(HttpStatusCode.NotFound, """{"detail": "Not found."}""", await _api.PostAsync($"/api/v1/chat/{chatId}/read/", new { seq = 1 }, stranger.Access));
    }

    [Fact]
    public async Task A_hub_call_for_someone_elses_chat_or_with_a_malformed_body_fails_and_changes_nothing()
    {
        var users = await RealTimeSetup.UsersAsync(_api);
        var (alice, bob, stranger) = (users[0], users[1], users[3]);
        var chatId = await RealTimeSetup.CreateChatAsync(_api, alice, bob);
        await using var aliceClient = await ChatHubClient.ConnectAsync(RealTimeSetup.Gateway(fixture), alice.Access);
        await using var strangerClient = await ChatHubClient.ConnectAsync(RealTimeSetup.Gateway(fixture), stranger.Access);
        await aliceClient.SendAsync(chatId, "the only message");

        async Task Refused(Func<Task> call, string expected)
        {
            var error = await Assert.ThrowsAsync<HubException>(call);
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        }

        await Refused(() => strangerClient.SendAsync(chatId, "intruding"), "Not found.");
        await Refused(() => strangerClient.TypingAsync(chatId), "Not found.");
        await Refused(() => strangerClient.MarkReadAsync(chatId, 1), "Not found.");
        await Refused(() => strangerClient.CatchUpAsync(chatId, 0), "Not found.");
        await Refused(() => aliceClient.SendAsync(chatId, "   "), "message: This field may not be blank.");
        await Refused(() => aliceClient.SendAsync(chatId, new string('x', 3751)), "no more than 3750 characters");
        await Refused(() => aliceClient.SendAsync(chatId, "x", "not an id because of spaces"), "client_message_id");
        await Refused(() => aliceClient.MarkReadAsync(chatId, 0), "seq");
        await Refused(() => aliceClient.MarkReadAsync(chatId, 99), "seq");
        await Refused(() => aliceClient.CatchUpAsync(chatId, -1), "after_seq");
        await Refused(() => aliceClient.Connection.InvokeAsync<HubSent>("Send", "not an object"), "");
        await Refused(() => aliceClient.Connection.InvokeAsync<HubSent>("Send", new { chat_id = "not a uuid", message = "x" }), "");
        await Refused(() => aliceClient.Connection.InvokeAsync<HubSent>("NoSuchMethod"), "");

        // The connection survives its errors, and the chat is as it was.
        var history = await aliceClient.CatchUpAsync(chatId, 0);
        Assert.Equal(["Beginning of messages", "the only message"], history.Messages.Select(m => m.Message));
        Assert.Equal(2, history.LastSeq);
        Assert.Empty(aliceClient.Typing(chatId));
        Assert.Empty(aliceClient.Reads(chatId));
    }

    [Fact]
    public async Task Sends_past_the_per_connection_rate_are_refused_until_the_window_passes()
    {
        var users = await RealTimeSetup.UsersAsync(_api);
        var (alice, bob) = (users[2], users[4]);
        var chatId = await RealTimeSetup.CreateChatAsync(_api, alice, bob);
        await using var client = await ChatHubClient.ConnectAsync(RealTimeSetup.Gateway(fixture), alice.Access);
        for (var i = 0; i < 120; i++)
        {
            await client.SendAsync(chatId, $"burst {i}");
        }

        var refused = await Assert.ThrowsAsync<HubException>(() => client.SendAsync(chatId, "one too many"));
        Assert.Contains("Request was throttled.", refused.Message, StringComparison.Ordinal);
        Assert.Equal(121, (await client.CatchUpAsync(chatId, 0)).LastSeq);
    }

    [Fact]
    public async Task A_user_holds_at_most_twenty_connections_per_replica()
    {
        var user = (await RealTimeSetup.UsersAsync(_api))[4];
        var replica = RealTimeSetup.ApiReplicas(fixture)[0];
        var held = new List<ChatHubClient>();
        try
        {
            for (var i = 0; i < 20; i++)
            {
                held.Add(await ChatHubClient.ConnectAsync(replica, user.Access));
            }

            await using var extra = ChatHubClient.Build(replica, user.Access);
            var closed = new TaskCompletionSource<Exception?>();
            extra.Closed += e => { closed.TrySetResult(e); return Task.CompletedTask; };
            // Refused before the WebSocket opens (429); or, when the 20th connection's count was not in yet (the hub counts
            // a connection just after its handshake), opened and closed at once by the hub with its reason.
            string refusal;
            try
            {
                await extra.StartAsync();
                refusal = (await closed.Task.WaitAsync(TimeSpan.FromSeconds(5)))?.Message ?? "closed without an error";
                Assert.Contains("Too many connections", refusal, StringComparison.Ordinal);
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Contains("429", e.Message, StringComparison.Ordinal);
            }

            // One closed makes room for one more.
            await held[0].DisposeAsync();
            held.RemoveAt(0);
            await ChatHubClient.WaitUntilAsync(() =>
            {
                try
                {
                    held.Add(ChatHubClient.ConnectAsync(replica, user.Access).GetAwaiter().GetResult());
                    return true;
                }
                catch (Exception e) when (e.Message.Contains("429", StringComparison.Ordinal))
                {
                    return false;
                }
            }, "a connection accepted once another closed");
        }
        finally
        {
            foreach (var client in held)
            {
                await client.DisposeAsync();
            }
        }
    }

    private async Task<(long Unread, long LastSeq)> UnreadAsync(TestUser user, Guid chatId)
    {
        var list = await _api.GetAsync("/api/v1/chat/", user.Access);
        ApiAssert.Status(HttpStatusCode.OK, list);
        var chat = list.Body.EnumerateArray().Single(c => c.GetProperty("id").GetString() == chatId.ToString());
        return (chat.GetProperty("unread").GetInt64(), chat.GetProperty("last_message_seq").GetInt64());
    }
}
