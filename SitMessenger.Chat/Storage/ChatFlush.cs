using Npgsql;
using SitMessenger.Chat.Messages;

namespace SitMessenger.Chat.Storage;

/// <summary>The next pending messages of a chat, right after its flushed mark, with the key id they are encrypted under.</summary>
public sealed record PendingBatch(string KeyId, long FlushedSeq, IReadOnlyList<EncryptedMessage> Messages)
{
    public long FirstSeq => Messages[0].Seq;

    public long LastSeq => Messages[^1].Seq;
}

/// <summary>
/// One Worker's turn at moving a chat's pending messages into segments, holding the chat's flush lock until disposed.
/// The caller writes each batch to a durable file, then records it: one transaction points a segment row at the
/// file, deletes the pending rows it holds and advances the flushed mark, or changes nothing.
/// </summary>
public sealed class ChatFlush : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly Guid _chatId;

    internal ChatFlush(NpgsqlConnection connection, Guid chatId)
    {
        _connection = connection;
        _chatId = chatId;
    }

    /// <summary>Up to <paramref name="limit"/> pending messages after the flushed mark; null when none (or the chat is gone).</summary>
    /// <exception cref="InvalidOperationException">The pending rows do not start right after the mark: the chat's rows disagree.</exception>
    public async Task<PendingBatch?> ReadNextAsync(int limit, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT key_id, flushed_seq FROM chats WHERE id = @chat;
            SELECT p.seq, p.ciphertext FROM pending_messages p JOIN chats c ON c.id = p.chat_id
            WHERE p.chat_id = @chat AND p.seq > c.flushed_seq ORDER BY p.seq LIMIT @limit
            """, _connection);
        command.Parameters.AddWithValue("chat", _chatId);
        command.Parameters.AddWithValue("limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var keyId = reader.GetString(0);
        var flushedSeq = reader.GetInt64(1);
        await reader.NextResultAsync(cancellationToken);
        var messages = new List<EncryptedMessage>();
        while (await reader.ReadAsync(cancellationToken))
        {
            messages.Add(new EncryptedMessage(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)));
        }

        if (messages.Count == 0)
        {
            return null;
        }

        if (messages[0].Seq != flushedSeq + 1)
        {
            throw new InvalidOperationException($"chat {_chatId}: pending messages start at {messages[0].Seq}, expected {flushedSeq + 1}");
        }

        return new PendingBatch(keyId, flushedSeq, messages);
    }

    /// <summary>
    /// Points a segment row at <paramref name="segment"/> (holding exactly <paramref name="batch"/>), deletes those
    /// pending rows and advances the flushed mark to its last seq: all in one transaction, or nothing when the mark
    /// moved or the rows went meanwhile (<see cref="SegmentChange.Conflict"/>) or the chat was deleted.
    /// </summary>
    public async Task<SegmentChange> RecordAsync(PendingBatch batch, NewSegment segment, CancellationToken cancellationToken)
    {
        if (segment.FirstSeq != batch.FirstSeq || segment.LastSeq != batch.LastSeq)
        {
            throw new ArgumentException($"the segment holds {segment.FirstSeq}..{segment.LastSeq}, the batch {batch.FirstSeq}..{batch.LastSeq}", nameof(segment));
        }

        await using var transaction = await _connection.BeginTransactionAsync(cancellationToken);
        await using var record = new NpgsqlBatch(_connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("UPDATE chats SET flushed_seq = $1 WHERE id = $2 AND flushed_seq = $3")
                {
                    Parameters = { new() { Value = batch.LastSeq }, new() { Value = _chatId }, new() { Value = batch.FlushedSeq } },
                },
                ChatSegmentCatalog.Insert(_chatId, segment),
                new NpgsqlBatchCommand("DELETE FROM pending_messages WHERE chat_id = $1 AND seq BETWEEN $2 AND $3")
                {
                    Parameters = { new() { Value = _chatId }, new() { Value = batch.FirstSeq }, new() { Value = batch.LastSeq } },
                },
            },
        };
        try
        {
            await record.ExecuteNonQueryAsync(cancellationToken);
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

        if (record.BatchCommands[0].RecordsAffected != 1 || record.BatchCommands[2].RecordsAffected != batch.Messages.Count)
        {
            await transaction.RollbackAsync(cancellationToken);
            return SegmentChange.Conflict;
        }

        await transaction.CommitAsync(cancellationToken);
        return SegmentChange.Recorded;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", _connection);
            unlock.Parameters.AddWithValue("key", LockKey(_chatId));
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
        finally
        {
            await _connection.DisposeAsync();
        }
    }

    internal static async Task<bool> TryLockAsync(NpgsqlConnection connection, Guid chatId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
        command.Parameters.AddWithValue("key", LockKey(chatId));
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static long LockKey(Guid chatId)
    {
        Span<byte> bytes = stackalloc byte[16];
        chatId.TryWriteBytes(bytes);
        return BitConverter.ToInt64(bytes) ^ BitConverter.ToInt64(bytes[8..]);
    }
}
