using Microsoft.Extensions.Options;
using SitMessenger.Api.Chats;

namespace SitMessenger.UnitTests.Api;

public sealed class RecentMessagesTests : IDisposable
{
    private static readonly Guid Chat = Guid.CreateVersion7();
    private readonly RecentMessages _recent = new(Options.Create(new RecentMessagesOptions { MessagesPerChat = 5, CharactersPerChat = 1_000 }));

    public void Dispose() => _recent.Dispose();

    [Fact]
    public void An_unknown_chat_lacks_the_whole_range()
    {
        var read = _recent.Read(Chat, 10, 20);
        Assert.Empty(read.Run);
        Assert.Equal((10L, 20L), (read.MissingBeforeFrom, read.MissingBeforeTo));
        Assert.Equal(read.MissingAfterFrom, read.MissingAfterTo);
    }

    [Fact]
    public void A_window_answers_what_it_holds_and_names_the_gaps_before_and_after()
    {
        _recent.Add(Chat, Messages(4, 6));

        var read = _recent.Read(Chat, 1, 8);

        Assert.Equal([4L, 5L, 6L], read.Run.Select(m => m.Seq));
        Assert.Equal((1L, 3L), (read.MissingBeforeFrom, read.MissingBeforeTo));
        Assert.Equal((6L, 8L), (read.MissingAfterFrom, read.MissingAfterTo));
    }

    [Fact]
    public void A_window_keeps_only_the_newest_messages_up_to_its_limits()
    {
        _recent.Add(Chat, Messages(1, 8));
        Assert.Equal([4L, 5L, 6L, 7L, 8L], _recent.Read(Chat, 0, 8).Run.Select(m => m.Seq));

        using var small = new RecentMessages(Options.Create(new RecentMessagesOptions { MessagesPerChat = 100, CharactersPerChat = 25 }));
        small.Add(Chat, Messages(1, 8)); // 10 characters each
        Assert.Equal([7L, 8L], small.Read(Chat, 0, 8).Run.Select(m => m.Seq));
    }

    [Fact]
    public void A_run_past_a_gap_replaces_the_window_and_an_older_one_is_dropped()
    {
        _recent.Add(Chat, Messages(1, 3));
        _recent.Add(Chat, Messages(10, 11));
        Assert.Equal([10L, 11L], _recent.Read(Chat, 0, 11).Run.Select(m => m.Seq));

        _recent.Add(Chat, Messages(1, 5));
        Assert.Equal([10L, 11L], _recent.Read(Chat, 0, 11).Run.Select(m => m.Seq));

        _recent.Add(Chat, Messages(8, 12));
        Assert.Equal([8L, 9L, 10L, 11L, 12L], _recent.Read(Chat, 0, 12).Run.Select(m => m.Seq));
    }

    [Fact]
    public void A_sent_message_joins_only_a_window_it_follows()
    {
        _recent.AddIfNext(Chat, Messages(1, 1)[0]);
        Assert.Empty(_recent.Read(Chat, 0, 1).Run);

        _recent.Add(Chat, Messages(1, 2));
        _recent.AddIfNext(Chat, Messages(4, 4)[0]);
        _recent.AddIfNext(Chat, Messages(3, 3)[0]);
        Assert.Equal([1L, 2L, 3L], _recent.Read(Chat, 0, 4).Run.Select(m => m.Seq));
    }

    [Fact]
    public void A_forgotten_chat_holds_nothing()
    {
        _recent.Add(Chat, Messages(1, 2));
        _recent.Forget(Chat);
        Assert.Empty(_recent.Read(Chat, 0, 2).Run);
    }

    private static List<SentMessage> Messages(long first, long last) =>
        [.. Enumerable.Range((int)first, (int)(last - first + 1)).Select(seq => new SentMessage(seq, DateTime.UnixEpoch, "u", $"message{seq,3}"))];
}
