using SitMessenger.Chat.Crypto;

namespace SitMessenger.Chat.Storage;

/// <summary>A chat's row: its wrapped data key, the last sequence number given out and the last one in segments.</summary>
public sealed record ChatRecord(Guid Id, DateTime Created, DateTime Updated, WrappedDataKey Key, long LastSeq, long FlushedSeq);

/// <summary>A chat of a member's list, with its last seq and how far that member has read it.</summary>
public sealed record ChatListing(Guid Id, DateTime Created, DateTime Updated, Guid[] Members, long LastSeq, long ReadSeq);

/// <summary>A member of a chat as its answers name them.</summary>
public sealed record ChatMember(Guid Id, string Username);

/// <summary>
/// A stored message's sequence number, and its chat as that send left it: when it was created, its flushed mark, the
/// version of its member list and, when asked for and changed, its members (what an answer needs without reading the
/// chat again). <see cref="Repeated"/>: the client message id was used before; nothing was stored, <see cref="Seq"/>
/// is the first send's, and nothing else is known.
/// </summary>
public sealed record AppendedMessage(
    long Seq, DateTime ChatCreated, long FlushedSeq, long MembersVersion, IReadOnlyList<ChatMember>? Members, bool Repeated = false);

/// <summary>A chat's members as of a version of its member list (which every change of membership moves).</summary>
public sealed record ChatMembers(long Version, IReadOnlyList<ChatMember> Members);

/// <summary>A member's read mark after marking a chat read: the mark (never lowered) and the chat's members to tell.</summary>
public sealed record ReadMark(long ReadSeq, long LastSeq, IReadOnlyList<Guid> Members);

/// <summary>How many chats one user may create within a window.</summary>
public sealed record ChatCreationLimit(int Chats, TimeSpan Window);

/// <summary>The created chat, or the wait before its creator may create another.</summary>
public sealed record ChatCreation(ChatRecord? Chat, TimeSpan? RetryAfter);

/// <summary>A position in a user's chat list: the <c>updated</c> and <c>id</c> of the last chat already seen.</summary>
public sealed record ChatListPosition(DateTime Updated, Guid Id);

public sealed record ChatListPage(int Limit, ChatListPosition? Before);

/// <summary>A leave: the sequence number of the "left" line the other members see, or none when the chat was deleted.</summary>
public sealed record LeaveResult(long? LeftLineSeq)
{
    public bool ChatDeleted => LeftLineSeq is null;
}

/// <summary>One message of an imported chat, already encrypted: when it was written, and its Fernet token.</summary>
public sealed record ImportedMessage(DateTime Created, byte[] Ciphertext);

/// <summary>A whole chat moved in from another installation: its id and times kept, a new wrapped data key, every message in order.</summary>
public sealed record ImportedChat(Guid Id, DateTime Created, DateTime Updated, WrappedDataKey Key, IReadOnlyList<Guid> Members, IReadOnlyList<ImportedMessage> Messages);
