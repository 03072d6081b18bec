using Npgsql;
using NpgsqlTypes;
using SitMessenger.Chat.Crypto;
using SitMessenger.Chat.Messages;

namespace SitMessenger.Chat.Storage;

/// <summary>
/// Chats, their members and their pending (acknowledged, not yet flushed) messages in PostgreSQL: the one owner of
/// the SQL on <c>chats</c>, <c>chat_members</c> and <c>pending_messages</c> outside a flush (which
/// <see cref="ChatSegmentCatalog"/> owns, as it moves pending rows into segments).
/// </summary>
public sealed partial class ChatStore(NpgsqlDataSource database)
{
    // Names the advisory locks of chat creation (pg_advisory_xact_lock's first key), apart from any other use of them.
    private const int CreationLockClass = 9_004;

    /// <summary>
    /// The new chat, or, when its creator already created <see cref="ChatCreationLimit.Chats"/> within the window, how
    /// long until the oldest of those leaves it. Counted and inserted under a lock per creator, so concurrent creates
    /// on any Api replica cannot together pass the limit.
    /// </summary>
    public async Task<ChatCreation> CreateAsync(
        Guid chatId, Guid creatorId, IReadOnlyCollection<Guid> members, WrappedDataKey key, DateTime now, byte[] firstMessage,
        ChatCreationLimit limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var count = new NpgsqlCommand(
            """
            SELECT pg_advisory_xact_lock(@lock_class, hashtext(@creator::text));
            SELECT count(*), min(created) FROM chats WHERE created_by = @creator AND created > @since;
            """, connection, transaction))
        {
            count.Parameters.AddWithValue("lock_class", CreationLockClass);
            count.Parameters.AddWithValue("creator", creatorId);
            count.Parameters.AddWithValue("since", now - limit.Window);
            await using var reader = await count.ExecuteReaderAsync(cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            if (reader.GetInt64(0) >= limit.Chats)
            {
                return new ChatCreation(null, reader.GetDateTime(1) + limit.Window - now);
            }
        }

        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO chats (id, created, updated, key_id, wrapped_key, last_seq, created_by) VALUES (@id, @now, @now, @key_id, @wrapped, 1, @creator);
            INSERT INTO chat_members (chat_id, user_id) SELECT @id, unnest(@members);
            INSERT INTO pending_messages (chat_id, seq, created, ciphertext) VALUES (@id, 1, @now, @first);
            """, connection, transaction);
        insert.Parameters.AddWithValue("id", chatId);
        insert.Parameters.AddWithValue("now", now);
        insert.Parameters.AddWithValue("key_id", key.KeyId);
        insert.Parameters.AddWithValue("wrapped", key.Blob);
        insert.Parameters.AddWithValue("creator", creatorId);
        insert.Parameters.AddWithValue("members", members.ToArray());
        insert.Parameters.AddWithValue("first", firstMessage);
        await insert.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new ChatCreation(new ChatRecord(chatId, now, now, key, 1, 0), null);
    }

    /// <summary>
    /// The user's chats, newest <c>updated</c> first (id breaking ties): all of them, or one page of them after
    /// the position <paramref name="page"/> names (keyset paging: a page never repeats or skips a chat that did not move).
    /// </summary>
    public async Task<IReadOnlyList<ChatListing>> ListForMemberAsync(Guid userId, ChatListPage? page, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(
            """
            WITH mine AS (
                SELECT c.id, c.created, c.updated, c.last_seq
                FROM chats c JOIN chat_members me ON me.chat_id = c.id AND me.user_id = @user
                WHERE @before_updated IS NULL OR (c.updated, c.id) < (@before_updated, @before_id)
                ORDER BY c.updated DESC, c.id DESC
                LIMIT @limit)
            SELECT m.id, m.created, m.updated, (SELECT array_agg(a.user_id ORDER BY a.user_id) FROM chat_members a WHERE a.chat_id = m.id),
                m.last_seq, coalesce((SELECT r.read_seq FROM chat_read_state r WHERE r.chat_id = m.id AND r.user_id = @user), 1)
            FROM mine m
            ORDER BY m.updated DESC, m.id DESC
            """);
        command.Parameters.AddWithValue("user", userId);
        command.Parameters.Add(new NpgsqlParameter("before_updated", NpgsqlDbType.TimestampTz) { Value = (object?)page?.Before?.Updated ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("before_id", NpgsqlDbType.Uuid) { Value = (object?)page?.Before?.Id ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("limit", NpgsqlDbType.Integer) { Value = (object?)page?.Limit ?? DBNull.Value });
        var chats = new List<ChatListing>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            chats.Add(new ChatListing(
                reader.GetGuid(0), reader.GetDateTime(1), reader.GetDateTime(2), reader.GetFieldValue<Guid[]>(3), reader.GetInt64(4), reader.GetInt64(5)));
        }

        return chats;
    }

    /// <summary>The chat if the user is one of its members; null for an unknown chat and for someone else's alike.</summary>
    public async Task<ChatRecord?> FindForMemberAsync(Guid chatId, Guid userId, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(
            """
            SELECT c.created, c.updated, c.key_id, c.wrapped_key, c.last_seq, c.flushed_seq
            FROM chats c JOIN chat_members m ON m.chat_id = c.id AND m.user_id = @user
            WHERE c.id = @chat
            """);
        command.Parameters.AddWithValue("chat", chatId);
        command.Parameters.AddWithValue("user", userId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new ChatRecord(
            chatId,
            reader.GetDateTime(0),
            reader.GetDateTime(1),
            new WrappedDataKey(reader.GetString(2), reader.GetFieldValue<byte[]>(3)),
            reader.GetInt64(4),
            reader.GetInt64(5));
    }

    public async Task<IReadOnlyList<ChatMember>> MembersAsync(Guid chatId, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(
            "SELECT u.id, u.username FROM chat_members m JOIN users u ON u.id = m.user_id WHERE m.chat_id = @chat ORDER BY u.username");
        command.Parameters.AddWithValue("chat", chatId);
        var members = new List<ChatMember>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            members.Add(new ChatMember(reader.GetGuid(0), reader.GetString(1)));
        }

        return members;
    }

    /// <summary>A member-list version no chat has: the members are read with the send.</summary>
    public const long NoMembersHeld = 0;

    /// <summary>
    /// Stores one message durably: the next sequence number and the row in one statement, only if the sender is a
    /// member. Null when not (or the chat is gone). Once this returns, the message survives any crash. The same
    /// statement reads the chat's members (whom the message is pushed to, and what an answer showing the chat needs),
    /// marks the message read for its sender, and, with a client message id, records it: a send repeating an id the
    /// sender already used in this chat stores nothing and answers the first one's seq (<see cref="AppendedMessage.Repeated"/>).
    /// </summary>
    /// <param name="membersVersionHeld">
    /// The version of the member list the caller already holds (<see cref="NoMembersHeld"/> for none): the members are
    /// read in the same round trip when the chat's list is at another version. Null: the caller wants no members.
    /// </param>
    public async Task<AppendedMessage?> AppendAsync(
        Guid chatId, Guid senderId, DateTime now, byte[] ciphertext, CancellationToken cancellationToken, long? membersVersionHeld = null,
        string? clientMessageId = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryAppendAsync(chatId, senderId, now, ciphertext, membersVersionHeld, clientMessageId, cancellationToken);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation
                && e.ConstraintName == "message_idempotency_pkey" && attempt == 1)
            {
                // The same id sent twice at once: the other send committed first. Asked again, the statement finds it.
            }
        }
    }

    private async Task<AppendedMessage?> TryAppendAsync(
        Guid chatId, Guid senderId, DateTime now, byte[] ciphertext, long? membersVersionHeld, string? clientMessageId, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(Append);
        command.Parameters.AddWithValue("chat", chatId);
        command.Parameters.AddWithValue("user", senderId);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.Add(new NpgsqlParameter("ciphertext", NpgsqlDbType.Bytea) { Value = ciphertext });
        command.Parameters.Add(new NpgsqlParameter("key", NpgsqlDbType.Text) { Value = (object?)clientMessageId ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("members_version", NpgsqlDbType.Bigint) { Value = (object?)membersVersionHeld ?? DBNull.Value });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        if (reader.GetBoolean(1))
        {
            return new AppendedMessage(reader.GetInt64(0), default, 0, 0, null, Repeated: true);
        }

        IReadOnlyList<ChatMember>? members = null;
        if (!reader.IsDBNull(5))
        {
            var ids = reader.GetFieldValue<Guid[]>(5);
            var names = reader.GetFieldValue<string[]>(6);
            members = [.. ids.Select((id, i) => new ChatMember(id, names[i]))];
        }

        return new AppendedMessage(reader.GetInt64(0), reader.GetDateTime(2), reader.GetInt64(3), reader.GetInt64(4), members);
    }

    // The sequence number, the row, the sender's read mark, the client message id and the chat's state after it, in
    // one statement: a send is one round trip. A known client message id stops the UPDATE, so nothing is stored and
    // the second SELECT answers the first send's seq (to a member only).
    private const string Append =
        """
        WITH prior AS (
            SELECT seq FROM message_idempotency WHERE @key IS NOT NULL AND chat_id = @chat AND sender_id = @user AND key = @key),
        next AS (
            UPDATE chats SET last_seq = last_seq + 1, updated = @now
            WHERE id = @chat AND NOT EXISTS (SELECT 1 FROM prior)
                AND EXISTS (SELECT 1 FROM chat_members WHERE chat_id = @chat AND user_id = @user)
            RETURNING last_seq, created, flushed_seq, members_version),
        stored AS (
            INSERT INTO pending_messages (chat_id, seq, created, ciphertext)
            SELECT @chat, last_seq, @now, @ciphertext FROM next
            RETURNING seq),
        keyed AS (
            INSERT INTO message_idempotency (chat_id, sender_id, key, seq, created)
            SELECT @chat, @user, @key, last_seq, @now FROM next WHERE @key IS NOT NULL),
        marked AS (
            INSERT INTO chat_read_state (chat_id, user_id, read_seq) SELECT @chat, @user, last_seq FROM next
            ON CONFLICT (chat_id, user_id) DO UPDATE SET read_seq = GREATEST(chat_read_state.read_seq, EXCLUDED.read_seq))
        SELECT s.seq, false, n.created, n.flushed_seq, n.members_version, m.ids, m.names
        FROM stored s CROSS JOIN next n CROSS JOIN LATERAL (
            -- Aggregated only when the caller's version is not the chat's: an unchanged list costs the send nothing.
            SELECT array_agg(u.id ORDER BY u.username) AS ids, array_agg(u.username ORDER BY u.username) AS names
            FROM chat_members cm JOIN users u ON u.id = cm.user_id
            WHERE cm.chat_id = @chat AND @members_version IS NOT NULL AND n.members_version <> @members_version) m
        UNION ALL
        SELECT p.seq, true, NULL, NULL, NULL, NULL, NULL
        FROM prior p WHERE EXISTS (SELECT 1 FROM chat_members WHERE chat_id = @chat AND user_id = @user)
        """;

    /// <summary>Pending messages with <paramref name="afterSeq"/> &lt; seq &lt;= <paramref name="toSeq"/>, in order.</summary>
    public async Task<IReadOnlyList<EncryptedMessage>> ReadPendingAsync(Guid chatId, long afterSeq, long toSeq, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(
            "SELECT seq, ciphertext FROM pending_messages WHERE chat_id = @chat AND seq > @after AND seq <= @to ORDER BY seq");
        command.Parameters.AddWithValue("chat", chatId);
        command.Parameters.AddWithValue("after", afterSeq);
        command.Parameters.AddWithValue("to", toSeq);
        var messages = new List<EncryptedMessage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            messages.Add(new EncryptedMessage(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)));
        }

        return messages;
    }

    /// <summary>Up to <paramref name="limit"/> chats with a pending message older than <paramref name="cutoff"/>: overdue for a flush.</summary>
    public async Task<IReadOnlyList<Guid>> ChatsPendingSinceAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("SELECT DISTINCT chat_id FROM pending_messages WHERE created < @cutoff LIMIT @limit");
        command.Parameters.AddWithValue("cutoff", cutoff);
        command.Parameters.AddWithValue("limit", limit);
        var chats = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            chats.Add(reader.GetGuid(0));
        }

        return chats;
    }

    /// <summary>
    /// Takes the user out of the chat. The other members keep it, with <paramref name="leftLine"/> appended as its
    /// next message; when the user was the last member the chat goes, with its pending rows and segment rows (the
    /// Worker's orphan sweep removes the files no row points to). Null when the user is not a member.
    /// </summary>
    public async Task<LeaveResult?> LeaveAsync(Guid chatId, Guid userId, DateTime now, byte[] leftLine, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // The chat's row is locked first: two last members leaving at once then take turns, and the second sees the
        // chat empty and deletes it, instead of each seeing the other still there and leaving an empty chat behind.
        await using (var leave = new NpgsqlCommand(
            """
            WITH locked AS (SELECT id FROM chats WHERE id = @chat FOR UPDATE)
            DELETE FROM chat_members WHERE chat_id = (SELECT id FROM locked) AND user_id = @user
            """, connection, transaction))
        {
            leave.Parameters.AddWithValue("chat", chatId);
            leave.Parameters.AddWithValue("user", userId);
            if (await leave.ExecuteNonQueryAsync(cancellationToken) <= 0)
            {
                return null;
            }
        }

        await using var rest = new NpgsqlCommand(
            """
            WITH emptied AS (
                DELETE FROM chats WHERE id = @chat AND NOT EXISTS (SELECT 1 FROM chat_members WHERE chat_id = @chat)
                RETURNING id),
            next AS (
                UPDATE chats SET last_seq = last_seq + 1, updated = @now
                WHERE id = @chat AND NOT EXISTS (SELECT 1 FROM emptied)
                RETURNING last_seq),
            line AS (
                INSERT INTO pending_messages (chat_id, seq, created, ciphertext)
                SELECT @chat, last_seq, @now, @line FROM next
                RETURNING seq)
            SELECT (SELECT seq FROM line)
            """, connection, transaction);
        rest.Parameters.AddWithValue("chat", chatId);
        rest.Parameters.AddWithValue("now", now);
        rest.Parameters.Add(new NpgsqlParameter("line", NpgsqlDbType.Bytea) { Value = leftLine });
        var seq = await rest.ExecuteScalarAsync(cancellationToken) as long?;
        await transaction.CommitAsync(cancellationToken);
        return new LeaveResult(seq);
    }

    /// <summary>Which of these chats are already there (an earlier run imported them, or the ids are taken).</summary>
    public async Task<IReadOnlySet<Guid>> FindExistingAsync(IReadOnlyCollection<Guid> chatIds, CancellationToken cancellationToken)
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
    /// Writes a chat moved in from another installation as if its messages had been sent here: the chat row with
    /// <c>last_seq</c> = the message count, its members, every message a pending row with seq 1..n (so the Api reads
    /// them back and the Worker's sweep flushes them like any others). The whole chat in one transaction, or nothing:
    /// false (and no change) when a chat with its id already exists, so a rerun after a kill skips what was done and
    /// never leaves half a chat.
    /// </summary>
    public async Task<bool> WriteImportedAsync(ImportedChat chat, CancellationToken cancellationToken)
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
