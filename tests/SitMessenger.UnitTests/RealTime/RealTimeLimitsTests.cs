using SitMessenger.Api.RealTime;

namespace SitMessenger.UnitTests.RealTime;

/// <summary>The hub's own bookkeeping: per-connection send budgets, per-user connection counts, client message ids.</summary>
public sealed class RealTimeLimitsTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_connection_gets_its_sends_per_window_then_waits_for_the_next_window()
    {
        var quota = new ConnectionQuota(sends: 3, typing: 1, window: TimeSpan.FromSeconds(10));
        Assert.Null(quota.TakeSend(Start));
        Assert.Null(quota.TakeSend(Start.AddSeconds(1)));
        Assert.Null(quota.TakeSend(Start.AddSeconds(2)));
        Assert.Equal(TimeSpan.FromSeconds(7), quota.TakeSend(Start.AddSeconds(3)));

        // Typing has a budget of its own: sends used up do not stop it.
        Assert.Null(quota.TakeTyping(Start.AddSeconds(3)));
        Assert.NotNull(quota.TakeTyping(Start.AddSeconds(4)));

        Assert.Null(quota.TakeSend(Start.AddSeconds(10)));
    }

    [Fact]
    public void A_user_over_the_connection_bound_is_refused_until_one_closes()
    {
        var connections = new HubConnections();
        var user = Guid.NewGuid();
        Assert.True(connections.TryAdd(user, 2));
        Assert.True(connections.TryAdd(user, 2));
        Assert.False(connections.TryAdd(user, 2));
        Assert.True(connections.TryAdd(Guid.NewGuid(), 2));
        Assert.Equal(3, connections.Total);

        connections.Remove(user);
        Assert.Equal(1, connections.Count(user));
        Assert.True(connections.TryAdd(user, 2));
        connections.Remove(user);
        connections.Remove(user);
        Assert.Equal(0, connections.Count(user));
        Assert.Equal(1, connections.Total);
    }

    [Theory]
    [InlineData("0f8fa1c2-6c1e-4d8b-9a4b-1d2e3f4a5b6c", true)]
    [InlineData("k", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("naïve", false)]
    [InlineData("line\nbreak", false)]
    public void A_client_message_id_is_1_to_100_visible_ASCII_characters(string id, bool valid)
    {
        Assert.Equal(valid, ClientMessageIds.IsValid(id));
    }

    [Fact]
    public void A_client_message_id_of_101_characters_is_refused()
    {
        Assert.True(ClientMessageIds.IsValid(new string('a', 100)));
        Assert.False(ClientMessageIds.IsValid(new string('a', 101)));
    }
}
