using System.Net;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.Api;

/// <summary>Many more concurrent sends than PostgreSQL has connections for: they queue for a connection, none fails.</summary>
[Collection(SystemCollection.Name)]
public sealed class SendBurstTests(SitMessengerAppFixture fixture)
{
    private const int Chats = 10;
    private const int SendsPerChat = 30;

    private readonly SitApiClient _api = new(fixture.Gateway);

    [Fact]
    public async Task A_burst_of_sends_beyond_the_connection_pools_is_all_acknowledged_and_all_stored()
    {
        var users = await _api.SharedUsersAsync();
        var chatIds = await Task.WhenAll(Enumerable.Range(0, Chats).Select(_ => _api.CreateChatAsync(users[0], users[1])));

        // All at once: 300 sends in flight over two Api replicas, more than the servers' 200 connections in all.
        var sends = chatIds.SelectMany(chatId => Enumerable.Range(0, SendsPerChat).Select(async n =>
            (ChatId: chatId, Text: $"burst {n}", Answer: await _api.PostMessageAsync(users[n % 2], chatId, $"burst {n}"))));
        var answers = await Task.WhenAll(sends);

        var failed = answers.Where(a => a.Answer.Status != HttpStatusCode.Created).ToList();
        Assert.True(failed.Count == 0,
            $"{failed.Count} of {answers.Length} sends failed, e.g. {failed.Select(f => $"{(int)f.Answer.Status} {f.Answer.Text}").FirstOrDefault()}");
        foreach (var chatId in chatIds)
        {
            var written = SitApiClient.Written(await _api.ReadLinesAsync(users[1], chatId));
            Assert.Equal(
                Enumerable.Range(0, SendsPerChat).Select(n => $"burst {n}").Order(StringComparer.Ordinal),
                written.Order(StringComparer.Ordinal));
        }
    }
}
