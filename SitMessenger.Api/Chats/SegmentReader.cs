using Microsoft.Extensions.Caching.Memory;
using SitMessenger.Chat.Messages;
using SitMessenger.Chat.Storage;

namespace SitMessenger.Api.Chats;

/// <summary>
/// Reads flushed messages back from segment files. Segments never change, so a verified segment is kept in memory
/// for a while; each is checked against the SHA-256 its row recorded before any of it is used.
/// </summary>
internal sealed class SegmentReader(ChatSegmentCatalog catalog, ISegmentStore store, IMemoryCache cache)
{
    private static readonly MemoryCacheEntryOptions Caching = new() { SlidingExpiration = TimeSpan.FromMinutes(5), Size = 1 };

    /// <summary>Messages with afterSeq &lt; seq &lt;= toSeq from the chat's segments, in order.</summary>
    public async Task<IReadOnlyList<EncryptedMessage>> ReadAsync(Guid chatId, long afterSeq, long toSeq, CancellationToken cancellationToken)
    {
        if (toSeq <= afterSeq)
        {
            return [];
        }

        var rows = await catalog.CoveringAsync(chatId, afterSeq, toSeq, cancellationToken);
        var messages = new List<EncryptedMessage>();
        foreach (var row in rows)
        {
            var contents = await LoadAsync(chatId, row.Location, row.Sha256, cancellationToken);
            messages.AddRange(contents.Messages.Where(m => m.Seq > afterSeq && m.Seq <= toSeq));
        }

        return messages;
    }

    private async Task<SegmentContents> LoadAsync(Guid chatId, string location, byte[] sha256, CancellationToken cancellationToken)
    {
        var key = "segment:" + location;
        if (cache.TryGetValue(key, out SegmentContents? cached) && cached is not null)
        {
            return cached;
        }

        var file = await store.ReadAsync(location, cancellationToken);
        var contents = SegmentFormat.Read(file, chatId, sha256, location);
        cache.Set(key, contents, Caching);
        return contents;
    }
}
