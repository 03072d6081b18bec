using System.Net;
using SitMessenger.SystemTests.Api;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.RealTime;

/// <summary>A client that drops, reconnects, or misses events while Redis restarts, catches up: nothing lost, nothing doubled.</summary>
[Collection(SystemCollection.Name)]
public sealed class RealTimeCatchUpTests(SitMessengerAppFixture fixture)
{
    private static readonly TimeSpan ServerStartBudget = TimeSpan.FromSeconds(60);

    private readonly SitApiClient _api = new(fixture.Gateway);

    [Fact]
    public async Task A_client_that_keeps_dropping_while_messages_flow_ends_with_every_message_once_in_order()
    {
        const int Senders = 4;
        const int PerSender = 40;
        var users = await RealTimeSetup.UsersAsync(_api);
        var (alice, bob) = (users[0], users[1]);
        var chatId = await RealTimeSetup.CreateChatAsync(_api, alice, bob);
        await using var follower = new CatchingUpClient(RealTimeSetup.Gateway(fixture), bob.Access, chatId);
        await follower.ConnectAsync(lastSeen: 1);

        var sending = Task.WhenAll(Enumerable.Range(0, Senders).Select(s => Task.Run(async () =>
        {
            for (var n = 0; n < PerSender; n++)
            {
                ApiAssert.Status(HttpStatusCode.Created, await _api.PostMessageAsync(alice, chatId.ToString(), $"s{s} n{n}"));
                // About 2 s of sending in all, whatever the machine's speed: long enough for several drops.
                await Task.Delay(50);
            }
        })));

        // A flaky mobile connection: gone for a moment, back, again and again while the messages flow.
        var drops = 0;
        while (!sending.IsCompleted)
        {
            await Task.Delay(Random.Shared.Next(30, 150));
            await follower.DropAsync();
            drops++;
            await Task.Delay(Random.Shared.Next(30, 150));
            await follower.ReconnectAsync();
        }

        await sending;
        const long Last = 1 + (Senders * PerSender);
        await ChatHubClient.WaitUntilAsync(() => follower.LastSeq == Last, $"the follower to reach seq {Last} (at {follower.LastSeq})");
        Assert.True(drops >= 3, $"only {drops} drops happened while sending");

        var expected = await HistoryAsync(alice, chatId);
        Assert.Equal(expected, follower.Applied);
        // Each connection heard each message at most once: the server doubles nothing either.
        Assert.All(follower.Connections, c => Assert.Equal(c.Messages(chatId).Count, c.Messages(chatId).Select(m => m.Seq).Distinct().Count()));
    }

    [Fact]
    public async Task After_a_Redis_restart_the_backplane_reconnects_and_catch_up_covers_the_gap()
    {
        var users = await RealTimeSetup.UsersAsync(_api);
        var (alice, bob) = (users[0], users[1]);
        var chatId = await RealTimeSetup.CreateChatAsync(_api, alice, bob);
        var replicas = RealTimeSetup.ApiReplicas(fixture);
        await using var follower = new CatchingUpClient(replicas[1], bob.Access, chatId);
        await follower.ConnectAsync(lastSeen: 1);
        await using var aliceOnReplica0 = await ChatHubClient.ConnectAsync(replicas[0], alice.Access);

        await aliceOnReplica0.SendAsync(chatId, "before the restart");
        await ChatHubClient.WaitUntilAsync(() => follower.LastSeq == 2, "the first message across replicas");

        try
        {
            await fixture.App.StopResourceAsync("cache");
            // Sends go on while Redis is down (PostgreSQL holds them); their events cannot cross replicas.
            for (var i = 0; i < 5; i++)
            {
                await aliceOnReplica0.SendAsync(chatId, $"while redis is down {i}");
            }
        }
        finally
        {
            using var starting = new CancellationTokenSource(ServerStartBudget);
            await fixture.App.StartResourceAsync("cache", starting.Token);
        }

        // The backplane comes back by itself: a message sent on replica 0 is again heard live on replica 1.
        var live = follower.Connections[^1];
        var sent = new List<long>();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!live.Messages(chatId).Any(m => sent.Contains(m.Seq)))
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), "no message heard live across replicas within 60 s of Redis coming back");
            sent.Add((await aliceOnReplica0.SendAsync(chatId, $"after the restart {sent.Count}")).Seq);
            await Task.Delay(500);
        }

        // And the gap (the messages sent while Redis was down) was filled by catch-up: every message, once, in order.
        await ChatHubClient.WaitUntilAsync(() => follower.LastSeq == sent[^1], $"the follower to reach seq {sent[^1]} (at {follower.LastSeq})");
        Assert.Equal(await HistoryAsync(alice, chatId), follower.Applied);
    }

    private async Task<List<(long Seq, string Text)>> HistoryAsync(TestUser user, Guid chatId)
    {
        var history = await _api.GetAsync(SitApiClient.MessagesPath(chatId.ToString()) + "?limit=500", user.Access);
        ApiAssert.Status(HttpStatusCode.OK, history);
        return [.. history.Body.GetProperty("messages").EnumerateArray()
            .Select(m => (m.GetProperty("seq").GetInt64(), m.GetProperty("message").GetString()!))
            .Where(m => m.Item1 > 1)];
    }
}
