using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using SitMessenger.Chat.Storage;

namespace SitMessenger.Api.Chats;

/// <summary>
/// The member lists of recently used chats, each with the version PostgreSQL gave it, so that a PATCH shows the
/// members without reading them: the send's own statement says the chat's current version and reads the members only
/// when it is not the one held here (after a join or leave, on any Api replica). Kept for as many chats, and as long
/// idle, as <see cref="RecentMessages"/> keeps their messages.
/// </summary>
internal sealed class KnownChatMembers : IDisposable
{
    private readonly MemoryCache _lists;
    private readonly MemoryCacheEntryOptions _entry;

    public KnownChatMembers(IOptions<RecentMessagesOptions> options)
    {
        _lists = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.Value.Chats });
        _entry = new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = options.Value.Idle };
    }

    /// <summary>The version of the chat's members held here, or <see cref="ChatStore.NoMembersHeld"/>.</summary>
    public long VersionHeld(Guid chatId) =>
        _lists.TryGetValue(chatId, out ChatMembers? held) && held is not null ? held.Version : ChatStore.NoMembersHeld;

    /// <summary>
    /// The chat's members as of the send: those it read (kept for the next send), or those held here when the send
    /// found the same version.
    /// </summary>
    public IReadOnlyList<ChatMember>? After(Guid chatId, AppendedMessage appended)
    {
        if (appended.Members is { } read)
        {
            _lists.Set(chatId, new ChatMembers(appended.MembersVersion, read), _entry);
            return read;
        }

        return _lists.TryGetValue(chatId, out ChatMembers? held) && held?.Version == appended.MembersVersion ? held.Members : null;
    }

    public void Forget(Guid chatId) => _lists.Remove(chatId);

    public void Dispose() => _lists.Dispose();
}
