namespace SitMessenger.Chat.Storage;

/// <summary>What real-time delivery asks of the chat tables: who to tell, and read marks.</summary>
public sealed partial class ChatStore
{
    /// <summary>The chat's member ids if <paramref name="userId"/> is one of them; null for someone else's chat or an unknown one.</summary>
    public async Task<IReadOnlyList<Guid>?> MemberIdsAsync(Guid chatId, Guid userId, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(
            "SELECT array_agg(user_id) FROM chat_members WHERE chat_id = @chat HAVING bool_or(user_id = @user)");
        command.Parameters.AddWithValue("chat", chatId);
        command.Parameters.AddWithValue("user", userId);
        return await command.ExecuteScalarAsync(cancellationToken) as Guid[];
    }

    /// <summary>
    /// Marks the chat read by the member up to <paramref name="seq"/> (a mark only rises: an older receipt arriving late
    /// changes nothing). Null when the user is not a member; the mark unchanged when <paramref name="seq"/> is past the
    /// chat's last message (the caller refuses that), so <see cref="ReadMark.LastSeq"/> says which.
    /// </summary>
    public async Task<ReadMark?> MarkReadAsync(Guid chatId, Guid userId, long seq, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(
            """
            WITH member AS (
                SELECT c.last_seq FROM chats c JOIN chat_members m ON m.chat_id = c.id AND m.user_id = @user WHERE c.id = @chat),
            marked AS (
                INSERT INTO chat_read_state (chat_id, user_id, read_seq)
                SELECT @chat, @user, @seq FROM member WHERE @seq <= member.last_seq
                ON CONFLICT (chat_id, user_id) DO UPDATE SET read_seq = GREATEST(chat_read_state.read_seq, EXCLUDED.read_seq)
                RETURNING read_seq)
            SELECT coalesce((SELECT read_seq FROM marked), (SELECT read_seq FROM chat_read_state WHERE chat_id = @chat AND user_id = @user), 1),
                member.last_seq, (SELECT array_agg(user_id) FROM chat_members WHERE chat_id = @chat)
            FROM member
            """);
        command.Parameters.AddWithValue("chat", chatId);
        command.Parameters.AddWithValue("user", userId);
        command.Parameters.AddWithValue("seq", seq);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new ReadMark(reader.GetInt64(0), reader.GetInt64(1), reader.GetFieldValue<Guid[]>(2));
    }
}
