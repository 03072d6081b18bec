using Npgsql;
using NpgsqlTypes;
using SitMessenger.Chat.Crypto;

namespace SitMessenger.Chat.Storage;

/// <summary>One message of an imported chat, already encrypted: when it was written, and its Fernet token.</summary>
public sealed record ImportedMessage(DateTime Created, byte[] Ciphertext);

/// <summary>A whole chat moved in from another installation: its id and times kept, a new wrapped data key, every message in order.</summary>
public sealed record ImportedChat(Guid Id, DateTime Created, DateTime Updated, WrappedDataKey Key, IReadOnlyList<Guid> Members, IReadOnlyList<ImportedMessage> Messages);

/// <summary>
/// Writes imported chats as if their messages had been sent through the Api: the chat row with
/// <c>last_seq</c> = the message count, its members, and every message as a pending row with seq 1..n, so the Api
/// reads them back and the Worker's sweep flushes them into segments like any others.
/// </summary>
public sealed class ChatImportWriter(NpgsqlDataSource database)
{
    /// <summary>Which of these chats are already there (an earlier run imported them, or the ids are taken).</summary>
    public async Task<IReadOnlySet<Guid>> ExistingAsync(IReadOnlyCollection<Guid> chatIds, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("SELECT id FROM chats WHERE id = ANY(@ids)");
        command.Parameters.AddWithValue("ids", chatIds.ToArray());
        var existing = new HashSet<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            existing.Add(reader.GetGuid(0));
        }

        return existing;
    }

    /// <summary>
    /// The whole chat in one transaction, or nothing: false (and no change) when a chat with its id already exists,
    /// so a rerun after a kill skips what was done and never leaves half a chat.
    /// </summary>
    public async Task<bool> WriteAsync(ImportedChat chat, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var insert = new NpgsqlCommand(
            """
            INSERT INTO chats (id, created, updated, key_id, wrapped_key, last_seq, created_by)
            VALUES (@id, @created, @updated, @key_id, @wrapped, @last_seq, NULL)
            ON CONFLICT (id) DO NOTHING
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue("id", chat.Id);
            insert.Parameters.AddWithValue("created", chat.Created);
            insert.Parameters.AddWithValue("updated", chat.Updated);
            insert.Parameters.AddWithValue("key_id", chat.Key.KeyId);
            insert.Parameters.AddWithValue("wrapped", chat.Key.Blob);
            insert.Parameters.AddWithValue("last_seq", (long)chat.Messages.Count);
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                await transaction.RollbackAsync(cancellationToken);
                return false;
            }
        }

        await using (var members = new NpgsqlCommand(
            "INSERT INTO chat_members (chat_id, user_id) SELECT @id, unnest(@members) ON CONFLICT DO NOTHING", connection, transaction))
        {
            members.Parameters.AddWithValue("id", chat.Id);
            members.Parameters.AddWithValue("members", chat.Members.ToArray());
            await members.ExecuteNonQueryAsync(cancellationToken);
        }

        // COPY: a chat of a thousand messages is one round trip, not a thousand.
        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY pending_messages (chat_id, seq, created, ciphertext) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            for (var i = 0; i < chat.Messages.Count; i++)
            {
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync(chat.Id, NpgsqlDbType.Uuid, cancellationToken);
                await copy.WriteAsync((long)(i + 1), NpgsqlDbType.Bigint, cancellationToken);
                await copy.WriteAsync(chat.Messages[i].Created, NpgsqlDbType.TimestampTz, cancellationToken);
                await copy.WriteAsync(chat.Messages[i].Ciphertext, NpgsqlDbType.Bytea, cancellationToken);
            }

            await copy.CompleteAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }
}
