using System.Net;
using SitMessenger.SystemTests.Api;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.RealTime;

/// <summary>Messages pushed through the Gateway to every member's connections on either Api replica, once, in seq order.</summary>
[Collection(SystemCollection.Name)]
public sealed class RealTimeDeliveryTests(SitMessengerAppFixture fixture)
{
    private readonly SitApiClient _api = new(fixture.Gateway);

    [Fact]
    public async Task A_message_sent_by_REST_or_the_hub_reaches_every_member_on_both_replicas_once_and_no_one_else()
    {
        var users = await RealTimeSetup.UsersAsync(_api);
        var (alice, bob, carol, stranger) = (users[0], users[1], users[2], users[3]);
        var chatId = await RealTimeSetup.CreateChatAsync(_api, alice, bob, carol);

        // Every member holds a connection on each replica directly and one through the Gateway; the stranger too.
        var listeners = new List<(TestUser User, ChatHubClient Client)>();
        foreach (var user in new[] { alice, bob, carol, stranger })
        {
            foreach (var server in RealTimeSetup.ApiReplicas(fixture).Append(RealTimeSetup.Gateway(fixture)))
            {
                listeners.Add((user, await ChatHubClient.ConnectAsync(server, user.Access)));
            }
        }

        try
        {
            ApiAssert.Status(HttpStatusCode.OK, await _api.PatchMessageAsync(alice, chatId.ToString(), "by PATCH"));
            ApiAssert.Status(HttpStatusCode.Created, await _api.PostMessageAsync(bob, chatId.ToString(), "by POST"));
            var sender = listeners.First(l => l.User == carol).Client;
            var viaHub = await sender.SendAsync(chatId, "by the hub");
            Assert.Equal(4, viaHub.Seq);
            Assert.Equal(carol.Username, viaHub.User);
            Assert.False(viaHub.Repeated);

            foreach (var (user, client) in listeners.Where(l => l.User != stranger))
            {
                await ChatHubClient.WaitUntilAsync(() => client.Messages(chatId).Count >= 3, $"{user.Username}'s three messages");
            }

            // A moment for anything extra (a double, a late copy) to arrive before counting.
            await Task.Delay(500);
            foreach (var (user, client) in listeners.Where(l => l.User != stranger))
            {
                var heard = client.Messages(chatId);
                Assert.Equal([2L, 3L, 4L], heard.Select(m => m.Seq));
                Assert.Equal(["by PATCH", "by POST", "by the hub"], heard.Select(m => m.Message));
                Assert.Equal([alice.Username, bob.Username, carol.Username], heard.Select(m => m.User));
                Assert.Equal([Guid.Parse(alice.Id), Guid.Parse(bob.Id), Guid.Parse(carol.Id)], heard.Select(m => m.UserId!.Value));
                Assert.All(heard, m => Assert.Equal(DateTimeKind.Utc, m.Datetime.Kind));
            }

            // What the hub said is what REST stores.
            var history = await _api.GetAsync(SitApiClient.MessagesPath(chatId.ToString()) + "?limit=3", alice.Access);
            var stored = history.Body.GetProperty("messages").EnumerateArray().Select(m => (m.GetProperty("seq").GetInt64(), m.GetProperty("message").GetString())).ToList();
            Assert.Equal([(2L, "by PATCH"), (3L, "by POST"), (4L, "by the hub")], stored);

            Assert.All(listeners.Where(l => l.User == stranger), l => Assert.Equal(0, l.Client.EventCount(chatId)));
        }
        finally
        {
            foreach (var (_, client) in listeners)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Sixteen_concurrent_senders_on_both_replicas_are_heard_in_seq_order_by_every_connection()
    {
        const int Senders = 16;
        const int PerSender = 15;
        var users = await RealTimeSetup.UsersAsync(_api);
        var members = users.Take(4).ToArray();
        var chatId = await RealTimeSetup.CreateChatAsync(_api, members[0], members[1..]);
        var replicas = RealTimeSetup.ApiReplicas(fixture);

        var receivers = new List<ChatHubClient>();
        var senders = new List<ChatHubClient>();
        try
        {
            foreach (var member in members)
            {
                foreach (var server in replicas)
                {
                    receivers.Add(await ChatHubClient.ConnectAsync(server, member.Access));
                }
            }

            // Half the senders use the hub (on alternating replicas), half REST through the Gateway.
            for (var i = 0; i < Senders / 2; i++)
            {
                senders.Add(await ChatHubClient.ConnectAsync(replicas[i % replicas.Count], members[i % members.Length].Access));
            }

            using var start = new SemaphoreSlim(0);
            var sends = Enumerable.Range(0, Senders).Select(s => Task.Run(async () =>
            {
                await start.WaitAsync();
                for (var n = 0; n < PerSender; n++)
                {
                    var text = $"sender {s} message {n}";
                    if (s < Senders / 2)
                    {
                        await senders[s].SendAsync(chatId, text);
                    }
                    else
                    {
                        ApiAssert.Status(HttpStatusCode.Created, await _api.PostMessageAsync(members[s % members.Length], chatId.ToString(), text));
                    }
                }
            })).ToList();
            start.Release(Senders);
            await Task.WhenAll(sends);

            var last = 1 + (Senders * PerSender);
            foreach (var receiver in receivers)
            {
                await ChatHubClient.WaitUntilAsync(() => receiver.Messages(chatId).Count >= last - 1, $"all {last - 1} messages");
            }

            await Task.Delay(500);
            var expected = Enumerable.Range(2, last - 1).Select(i => (long)i).ToList();
            foreach (var receiver in receivers)
            {
                // As delivered, unsorted: every seq once, in order.
                var delivered = receiver.Messages(chatId).Select(m => m.Seq).ToList();
                var first = Enumerable.Range(0, Math.Min(expected.Count, delivered.Count)).FirstOrDefault(i => expected[i] != delivered[i], -1);
                Assert.True(first < 0 && delivered.Count == expected.Count,
                    $"delivered out of order or not once: around position {first}: {string.Join(",", delivered.Skip(Math.Max(0, first - 5)).Take(12))}");
            }

            // And each sender's own messages in the order it sent them.
            var heard = receivers[0].Messages(chatId);
            for (var s = 0; s < Senders; s++)
            {
                var mine = heard.Where(m => m.Message!.StartsWith($"sender {s} ", StringComparison.Ordinal)).Select(m => m.Message).ToList();
                Assert.Equal(Enumerable.Range(0, PerSender).Select(n => $"sender {s} message {n}"), mine);
            }
        }
        finally
        {
            foreach (var client in receivers.Concat(senders))
            {
                await client.DisposeAsync();
            }
        }
    }
}
