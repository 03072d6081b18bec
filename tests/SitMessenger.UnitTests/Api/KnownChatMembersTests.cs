using Microsoft.Extensions.Options;
using SitMessenger.Api.Chats;
using SitMessenger.Chat.Storage;

namespace SitMessenger.UnitTests.Api;

public sealed class KnownChatMembersTests : IDisposable
{
    private static readonly Guid Chat = Guid.CreateVersion7();
    private static readonly ChatMember Alice = new(Guid.CreateVersion7(), "alice");
    private static readonly ChatMember Bob = new(Guid.CreateVersion7(), "bob");

    private readonly KnownChatMembers _known = new(Options.Create(new RecentMessagesOptions()));

    public void Dispose() => _known.Dispose();

    [Fact]
    public void An_unknown_chat_holds_no_version_so_the_send_reads_its_members()
    {
        Assert.Equal(ChatStore.NoMembersHeld, _known.VersionHeld(Chat));
    }

    [Fact]
    public void Members_a_send_read_are_held_with_their_version_and_answer_the_next_send_of_that_version()
    {
        Assert.Equal([Alice, Bob], _known.After(Chat, Appended(version: 7, [Alice, Bob])));
        Assert.Equal(7, _known.VersionHeld(Chat));

        Assert.Equal([Alice, Bob], _known.After(Chat, Appended(version: 7, members: null)));
    }

    [Fact]
    public void A_send_of_another_version_without_members_gets_none_rather_than_the_old_list()
    {
        _known.After(Chat, Appended(version: 7, [Alice, Bob]));

        Assert.Null(_known.After(Chat, Appended(version: 8, members: null)));
    }

    [Fact]
    public void A_forgotten_chat_is_read_again()
    {
        _known.After(Chat, Appended(version: 7, [Alice]));
        _known.Forget(Chat);

        Assert.Equal(ChatStore.NoMembersHeld, _known.VersionHeld(Chat));
        Assert.Null(_known.After(Chat, Appended(version: 7, members: null)));
    }

    private static AppendedMessage Appended(long version, IReadOnlyList<ChatMember>? members) =>
        new(Seq: 2, ChatCreated: DateTime.UtcNow, FlushedSeq: 0, MembersVersion: version, Members: members);
}
