using Microsoft.Extensions.Caching.Memory;
using Npgsql;
using SitMessenger.Chat.Messages;
using SitMessenger.Chat.Storage;

namespace SitMessenger.Api.Chats;

/// <summary>
/// Reads flushed messages back from segment files. Segments never change, so a verified segment is kept in memory
/// for a while; each is checked against the SHA-256 its row recorded before any of it is used.
/// </summary>
internal sealed class SegmentReader(NpgsqlDataSource database, ISegmentStore store, IMemoryCache cache)
{
    private static readonly MemoryCacheEntryOptions Caching = new() { SlidingExpiration = TimeSpan.FromMinutes(5), Size = 1 };

    /// <summary>Messages with afterSeq &lt; seq &lt;= toSeq from the chat's segments, in order.</summary>
    public async Task<IReadOnlyList<EncryptedMessage>> ReadAsync(Guid chatId, long afterSeq, long toSeq, CancellationToken cancellationToken)
    {
        if (toSeq <= afterSeq)
        {
            return [];
        }

        var rows = new List<(string Location, byte[] Sha256)>();
        await using (var command = database.CreateCommand(
            "SELECT location, sha256 FROM chat_segments WHERE chat_id = $1 AND last_seq > $2 AND first_seq <= $3 ORDER BY first_seq"))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = chatId });
            command.Parameters.Add(new NpgsqlParameter { Value = afterSeq });
            command.Parameters.Add(new NpgsqlParameter { Value = toSeq });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add((reader.GetString(0), reader.GetFieldValue<byte[]>(1)));
            }
        }

        var messages = new List<EncryptedMessage>();
        foreach (var (location, sha256) in rows)
        {
            var contents = await LoadAsync(chatId, location, sha256, cancellationToken);
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
