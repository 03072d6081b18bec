using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using SitMessenger.Chat.Messages;
using SitMessenger.Chat.Messaging;
using SitMessenger.Chat.Storage;
using SitMessenger.Worker.Jobs;
using StackExchange.Redis;

namespace SitMessenger.Worker.Flushing;

/// <summary>
/// Moves a chat's pending messages into a new immutable segment file. Order of events makes any crash harmless:
/// the file is written and fsynced first (a crash leaves only an orphan file, removed later); then one transaction
/// records the segment, deletes the rows it holds and advances the chat's flushed mark (a crash before it changes
/// nothing; after it, a redelivered job finds nothing left to move). Ciphertexts are copied as they are.
/// </summary>
internal sealed partial class ChatFlusher(
    NpgsqlDataSource database,
    ISegmentStore segments,
    IConnectionMultiplexer redis,
    IOptions<SegmentPolicy> policy,
    TimeProvider time,
    ILogger<ChatFlusher> logger) : IJobHandler
{
    public string JobType => JobTypes.FlushChat;

    public async Task<string> RunAsync(JobEnvelope job, CancellationToken cancellationToken)
    {
        var chatId = job.ChatId ?? throw new InvalidOperationException("a flush job needs a chat id");

        // From here on a new message must schedule a new flush: this one may already have read past it.
        await ForgetScheduledFlushAsync(chatId);

        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        if (!await TryLockChatAsync(connection, chatId, cancellationToken))
        {
            return "another worker is flushing this chat";
        }

        try
        {
            var moved = 0;
            while (await FlushBatchAsync(connection, chatId, cancellationToken) is var count and > 0)
            {
                moved += count;
                if (count < policy.Value.MaxMessagesPerSegment)
                {
                    break;
                }
            }

            return $"moved {moved} messages";
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
            unlock.Parameters.AddWithValue("key", LockKey(chatId));
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private async Task<int> FlushBatchAsync(NpgsqlConnection connection, Guid chatId, CancellationToken cancellationToken)
    {
        await using var chatQuery = new NpgsqlCommand("SELECT key_id, flushed_seq FROM chats WHERE id = @chat", connection);
        chatQuery.Parameters.AddWithValue("chat", chatId);
        string keyId;
        long flushedSeq;
        await using (var reader = await chatQuery.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return 0;
            }

            keyId = reader.GetString(0);
            flushedSeq = reader.GetInt64(1);
        }

        var messages = new List<EncryptedMessage>();
        await using (var pendingQuery = new NpgsqlCommand(
            "SELECT seq, ciphertext FROM pending_messages WHERE chat_id = @chat AND seq > @flushed ORDER BY seq LIMIT @limit", connection))
        {
            pendingQuery.Parameters.AddWithValue("chat", chatId);
            pendingQuery.Parameters.AddWithValue("flushed", flushedSeq);
            pendingQuery.Parameters.AddWithValue("limit", policy.Value.MaxMessagesPerSegment);
            await using var reader = await pendingQuery.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                messages.Add(new EncryptedMessage(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)));
            }
        }

        if (messages.Count == 0)
        {
            return 0;
        }

        if (messages[0].Seq != flushedSeq + 1)
        {
            throw new InvalidOperationException($"chat {chatId}: pending messages start at {messages[0].Seq}, expected {flushedSeq + 1}");
        }

        var first = messages[0].Seq;
        var last = messages[^1].Seq;
        var file = SegmentFormat.Write(chatId, keyId, messages);
        var location = await segments.WriteAsync(chatId, first, last, file, cancellationToken);

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var record = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("UPDATE chats SET flushed_seq = $1 WHERE id = $2 AND flushed_seq = $3")
                {
                    Parameters = { new() { Value = last }, new() { Value = chatId }, new() { Value = flushedSeq } },
                },
                new NpgsqlBatchCommand(
                    "INSERT INTO chat_segments (id, chat_id, first_seq, last_seq, location, key_id, sha256, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                {
                    Parameters =
                    {
                        new() { Value = Guid.CreateVersion7() }, new() { Value = chatId }, new() { Value = first }, new() { Value = last },
                        new() { Value = location }, new() { Value = keyId }, new() { Value = SegmentFormat.Hash(file), NpgsqlDbType = NpgsqlDbType.Bytea },
                        new() { Value = time.GetUtcNow() },
                    },
                },
                new NpgsqlBatchCommand("DELETE FROM pending_messages WHERE chat_id = $1 AND seq BETWEEN $2 AND $3")
                {
                    Parameters = { new() { Value = chatId }, new() { Value = first }, new() { Value = last } },
                },
            },
        };
        try
        {
            await record.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            // The chat was deleted while its messages were being written out.
            await transaction.RollbackAsync(cancellationToken);
            await segments.DeleteAsync(location, cancellationToken);
            return 0;
        }

        if (record.BatchCommands[0].RecordsAffected != 1 || record.BatchCommands[2].RecordsAffected != messages.Count)
        {
            // Someone else moved these rows: keep nothing of ours.
            await transaction.RollbackAsync(cancellationToken);
            await segments.DeleteAsync(location, cancellationToken);
            LogConflict(logger, chatId);
            return 0;
        }

        await transaction.CommitAsync(cancellationToken);
        TrimCache(chatId, last);
        LogFlushed(logger, messages.Count, chatId, first, last);
        return messages.Count;
    }

    private async Task ForgetScheduledFlushAsync(Guid chatId)
    {
        try
        {
            await redis.GetDatabase().KeyDeleteAsync(FlushOptions.PendingKey(chatId));
        }
        catch (RedisException)
        {
            // Without Redis the Api publishes a flush for every burst anyway.
        }
    }

    private void TrimCache(Guid chatId, long lastFlushed)
    {
        if (redis.IsConnected)
        {
            redis.GetDatabase().SortedSetRemoveRangeByScore(ChatCacheKeys.Pending(chatId), double.NegativeInfinity, lastFlushed, flags: CommandFlags.FireAndForget);
        }
    }

    /// <summary>A session lock per chat: two Workers given the same chat take turns instead of racing.</summary>
    private static async Task<bool> TryLockChatAsync(NpgsqlConnection connection, Guid chatId, CancellationToken cancellationToken)
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Moved {Count} messages of chat {ChatId} ({First}..{Last}) into a segment")]
    private static partial void LogFlushed(ILogger logger, int count, Guid chatId, long first, long last);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat {ChatId} changed during its flush (deleted, or flushed elsewhere); this flush was discarded")]
    private static partial void LogConflict(ILogger logger, Guid chatId);
}
