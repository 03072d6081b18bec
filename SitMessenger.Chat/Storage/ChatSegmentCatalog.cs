using Npgsql;
using NpgsqlTypes;

namespace SitMessenger.Chat.Storage;

/// <summary>A segment file's row: which messages of which chat it holds, where, under which key, with which hash.</summary>
public sealed record SegmentRecord(Guid Id, long FirstSeq, long LastSeq, string Location, string KeyId, byte[] Sha256)
{
    public long Count => LastSeq - FirstSeq + 1;
}

/// <summary>A segment file that is written and durable, to be recorded.</summary>
public sealed record NewSegment(long FirstSeq, long LastSeq, string Location, string KeyId, byte[] Sha256, DateTimeOffset Created);

public enum SegmentChange
{
    /// <summary>Committed: the rows now point at the new file.</summary>
    Recorded,

    /// <summary>The chat was deleted meanwhile: nothing changed, and the new file belongs to no one.</summary>
    ChatDeleted,

    /// <summary>Someone else changed the same rows first (another flush or compaction): nothing changed.</summary>
    Conflict,
}

/// <summary>
/// The rows of <c>chat_segments</c>: the one owner of their SQL, and of the flushed mark (<c>chats.flushed_seq</c>)
/// that says which of a chat's messages are in segments (seq ≤ mark) and which still pending (seq &gt; mark).
/// </summary>
public sealed class ChatSegmentCatalog(NpgsqlDataSource database)
{
    private const string InsertSegment =
        "INSERT INTO chat_segments (id, chat_id, first_seq, last_seq, location, key_id, sha256, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

    /// <summary>The chat's segments holding any message with afterSeq &lt; seq &lt;= toSeq, in order.</summary>
    public async Task<IReadOnlyList<SegmentRecord>> CoveringAsync(Guid chatId, long afterSeq, long toSeq, CancellationToken cancellationToken)
    {
        if (toSeq <= afterSeq)
        {
            return [];
        }

        await using var command = database.CreateCommand(
            "SELECT id, first_seq, last_seq, location, key_id, sha256 FROM chat_segments WHERE chat_id = $1 AND last_seq > $2 AND first_seq <= $3 ORDER BY first_seq");
        command.Parameters.Add(new NpgsqlParameter { Value = chatId });
        command.Parameters.Add(new NpgsqlParameter { Value = afterSeq });
        command.Parameters.Add(new NpgsqlParameter { Value = toSeq });
        return await ReadSegmentsAsync(command, cancellationToken);
    }

    /// <summary>Every segment of the chat, in order.</summary>
    public async Task<IReadOnlyList<SegmentRecord>> ForChatAsync(Guid chatId, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(
            "SELECT id, first_seq, last_seq, location, key_id, sha256 FROM chat_segments WHERE chat_id = $1 ORDER BY first_seq");
        command.Parameters.Add(new NpgsqlParameter { Value = chatId });
        return await ReadSegmentsAsync(command, cancellationToken);
    }

    /// <summary>Up to <paramref name="limit"/> chats with at least <paramref name="atLeast"/> segments of fewer than <paramref name="smallerThan"/> messages.</summary>
    public async Task<IReadOnlyList<Guid>> ChatsWithSmallSegmentsAsync(int smallerThan, int atLeast, int limit, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(
            """
            SELECT chat_id FROM chat_segments WHERE last_seq - first_seq + 1 < $1
            GROUP BY chat_id HAVING count(*) >= $2 LIMIT $3
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = (long)smallerThan });
        command.Parameters.Add(new NpgsqlParameter { Value = (long)atLeast });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        var chats = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            chats.Add(reader.GetGuid(0));
        }

        return chats;
    }

    /// <summary>Those of <paramref name="locations"/> that a row points to.</summary>
    public async Task<IReadOnlySet<string>> ReferencedAsync(IReadOnlyCollection<string> locations, CancellationToken cancellationToken)
    {
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        await using var command = database.CreateCommand("SELECT location FROM chat_segments WHERE location = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = locations.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            referenced.Add(reader.GetString(0));
        }

        return referenced;
    }

    /// <summary>
    /// Replaces consecutive segments of a chat by one file holding all their messages (compaction), in one
    /// transaction: all of <paramref name="replaced"/> go or none does.
    /// </summary>
    public async Task<SegmentChange> ReplaceAsync(Guid chatId, IReadOnlyCollection<SegmentRecord> replaced, NewSegment merged, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var replace = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("DELETE FROM chat_segments WHERE id = ANY($1)") { Parameters = { new() { Value = replaced.Select(r => r.Id).ToArray() } } },
                Insert(chatId, merged),
            },
        };
        try
        {
            await replace.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            await transaction.RollbackAsync(cancellationToken);
            return SegmentChange.ChatDeleted;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // A segment starting at the same message is already recorded: another flush or compaction got there first.
            await transaction.RollbackAsync(cancellationToken);
            return SegmentChange.Conflict;
        }

        if (replace.BatchCommands[0].RecordsAffected != replaced.Count)
        {
            await transaction.RollbackAsync(cancellationToken);
            return SegmentChange.Conflict;
        }

        await transaction.CommitAsync(cancellationToken);
        return SegmentChange.Recorded;
    }

    /// <summary>
    /// Starts moving the chat's pending messages into segments, under a session lock of its own so that two Workers
    /// given the same chat take turns instead of racing; null when another holds it.
    /// </summary>
    public async Task<ChatFlush?> TryBeginFlushAsync(Guid chatId, CancellationToken cancellationToken)
    {
        var connection = await database.OpenConnectionAsync(cancellationToken);
        try
        {
            if (await ChatFlush.TryLockAsync(connection, chatId, cancellationToken))
            {
                return new ChatFlush(connection, chatId);
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        await connection.DisposeAsync();
        return null;
    }

    internal static NpgsqlBatchCommand Insert(Guid chatId, NewSegment segment) => new(InsertSegment)
    {
        Parameters =
        {
            new() { Value = Guid.CreateVersion7() }, new() { Value = chatId }, new() { Value = segment.FirstSeq }, new() { Value = segment.LastSeq },
            new() { Value = segment.Location }, new() { Value = segment.KeyId }, new() { Value = segment.Sha256, NpgsqlDbType = NpgsqlDbType.Bytea },
            new() { Value = segment.Created },
        },
    };

    private static async Task<IReadOnlyList<SegmentRecord>> ReadSegmentsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var rows = new List<SegmentRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new SegmentRecord(
                reader.GetGuid(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4), reader.GetFieldValue<byte[]>(5)));
        }

        return rows;
    }
}
