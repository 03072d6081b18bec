using System.Net;
using SitMessenger.SystemTests.Api;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.RealTime;

/// <summary>Membership changes take effect at once: a new member hears the chat from its first event, one who left hears nothing more.</summary>
[Collection(SystemCollection.Name)]
public sealed class RealTimeMembershipTests(SitMessengerAppFixture fixture)
{
    private readonly SitApiClient _api = new(fixture.Gateway);

    [Fact]
    public async Task A_member_added_to_a_chat_hears_it_at_once_and_its_first_message()
    {
        var users = await RealTimeSetup.UsersAsync(_api);
        var (alice, bob) = (users[0], users[1]);
        await using var bobOnReplica0 = await ChatHubClient.ConnectAsync(RealTimeSetup.ApiReplicas(fixture)[0], bob.Access);
        await using var bobOnReplica1 = await ChatHubClient.ConnectAsync(RealTimeSetup.ApiReplicas(fixture)[1], bob.Access);

        // Bob was connected before the chat existed: no reconnect, no subscribe call.
        var chatId = await RealTimeSetup.CreateChatAsync(_api, alice, bob);
        ApiAssert.Status(HttpStatusCode.Created, await _api.PostMessageAsync(alice, chatId.ToString(), "welcome"));

        foreach (var bobClient in new[] { bobOnReplica0, bobOnReplica1 })
        {
            await ChatHubClient.WaitUntilAsync(() => bobClient.Messages(chatId).Count == 1, "the first message");
            Assert.Equal([new HubChat(chatId, "added", 1)], bobClient.Chats(chatId));
            Assert.Equal("welcome", bobClient.Messages(chatId).Single().Message);
        }
    }

    [Fact]
    public async Task A_removed_member_receives_nothing_more()
    {
        var users = await RealTimeSetup.UsersAsync(_api);
        var (alice, bob, carol) = (users[0], users[1], users[2]);
        var chatId = await RealTimeSetup.CreateChatAsync(_api, alice, bob, carol);
        var replicas = RealTimeSetup.ApiReplicas(fixture);
        await using var aliceClient = await ChatHubClient.ConnectAsync(replicas[0], alice.Access);
        await using var bobClient = await ChatHubClient.ConnectAsync(replicas[1], bob.Access);
        await using var carolClient = await ChatHubClient.ConnectAsync(replicas[0], carol.Access);

        ApiAssert.Status(HttpStatusCode.Created, await _api.PostMessageAsync(alice, chatId.ToString(), "before bob leaves"));
        await ChatHubClient.WaitUntilAsync(() => bobClient.Messages(chatId).Count == 1, "bob hearing the first message");

        ApiAssert.Status(HttpStatusCode.NoContent, await _api.DeleteAsync(SitApiClient.ChatPath(chatId.ToString()), bob.Access));
        await ChatHubClient.WaitUntilAsync(() => bobClient.Chats(chatId).Any(c => c.Kind == "removed"), "bob's 'removed' event");
        var bobHeardBefore = bobClient.EventCount(chatId);

        // Everything the chat does from now on: messages by REST and hub, typing, a read receipt.
        ApiAssert.Status(HttpStatusCode.Created, await _api.PostMessageAsync(alice, chatId.ToString(), "after bob left"));
        var viaHub = await carolClient.SendAsync(chatId, "carol after bob left");
        await carolClient.TypingAsync(chatId);
        await aliceClient.MarkReadAsync(chatId, viaHub.Seq);

        // The others hear all of it, so it was published; bob, on the other replica, hears none of it.
        await ChatHubClient.WaitUntilAsync(() => aliceClient.Messages(chatId).Any(m => m.Message == "carol after bob left")
            && aliceClient.Typing(chatId).Count == 1 && carolClient.Reads(chatId).Count == 1, "alice and carol hearing the chat");
        Assert.Contains(aliceClient.Messages(chatId), m => m.Message == $"{bob.Username} left the chat" && m.User == "");
        await Task.Delay(1000);
        Assert.Equal(bobHeardBefore, bobClient.EventCount(chatId));

        // Nor can bob act in it through the hub.
        var refused = await Assert.ThrowsAsync<Microsoft.AspNetCore.SignalR.HubException>(() => bobClient.SendAsync(chatId, "let me back in"));
        Assert.Contains("Not found.", refused.Message, StringComparison.Ordinal);

        // The last members leaving delete the chat: the last one hears "deleted".
        ApiAssert.Status(HttpStatusCode.NoContent, await _api.DeleteAsync(SitApiClient.ChatPath(chatId.ToString()), carol.Access));
        ApiAssert.Status(HttpStatusCode.NoContent, await _api.DeleteAsync(SitApiClient.ChatPath(chatId.ToString()), alice.Access));
        await ChatHubClient.WaitUntilAsync(() => aliceClient.Chats(chatId).Any(c => c.Kind == "deleted"), "alice's 'deleted' event");
    }
}
