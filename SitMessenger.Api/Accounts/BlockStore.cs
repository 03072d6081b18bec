using Npgsql;

namespace SitMessenger.Api.Accounts;

internal sealed record UserBlock(Guid Id, Guid User, string Username, DateTime Created);

/// <summary>Who blocked whom, in PostgreSQL. A block is the blocker's alone: the blocked user is never shown it.</summary>
internal sealed class BlockStore(NpgsqlDataSource database)
{
    public async Task<IReadOnlyList<UserBlock>> ListAsync(Guid blockerId, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(
            """
            SELECT b.id, b.blocked_id, u.username, b.created FROM user_blocks b JOIN users u ON u.id = b.blocked_id
            WHERE b.blocker_id = @blocker ORDER BY u.username
            """);
        command.Parameters.AddWithValue("blocker", blockerId);
        var blocks = new List<UserBlock>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            blocks.Add(new UserBlock(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetDateTime(3)));
        }

        return blocks;
    }

    /// <summary>The block, and whether this call made it (false: it already existed). Null when the user does not exist.</summary>
    public async Task<(UserBlock Block, bool Created)?> AddAsync(Guid blockerId, Guid blockedId, DateTime now, CancellationToken cancellationToken)
    {
        // One statement whether or not the block exists, so a retried POST finds the first one's block.
        await using var command = database.CreateCommand(
            """
            WITH added AS (
                INSERT INTO user_blocks (id, blocker_id, blocked_id, created)
                SELECT @id, @blocker, u.id, @now FROM users u WHERE u.id = @blocked
                ON CONFLICT (blocker_id, blocked_id) DO NOTHING
                RETURNING id, blocked_id, created)
            SELECT a.id, a.blocked_id, u.username, a.created, true FROM added a JOIN users u ON u.id = a.blocked_id
            UNION ALL
            SELECT b.id, b.blocked_id, u.username, b.created, false FROM user_blocks b JOIN users u ON u.id = b.blocked_id
            WHERE b.blocker_id = @blocker AND b.blocked_id = @blocked
            """);
        command.Parameters.AddWithValue("id", Guid.CreateVersion7());
        command.Parameters.AddWithValue("blocker", blockerId);
        command.Parameters.AddWithValue("blocked", blockedId);
        command.Parameters.AddWithValue("now", now);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return (new UserBlock(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetDateTime(3)), reader.GetBoolean(4));
    }

    /// <summary>False when the block is not the caller's (or does not exist).</summary>
    public async Task<bool> RemoveAsync(Guid blockerId, Guid blockId, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("DELETE FROM user_blocks WHERE id = @id AND blocker_id = @blocker");
        command.Parameters.AddWithValue("id", blockId);
        command.Parameters.AddWithValue("blocker", blockerId);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    /// <summary>Which of <paramref name="userIds"/> have blocked <paramref name="blockedId"/>.</summary>
    public async Task<IReadOnlyList<Guid>> BlockersAmongAsync(Guid blockedId, IReadOnlyCollection<Guid> userIds, CancellationToken cancellationToken)
    {
        if (userIds.Count == 0)
        {
            return [];
        }

        await using var command = database.CreateCommand("SELECT blocker_id FROM user_blocks WHERE blocked_id = @blocked AND blocker_id = ANY(@users)");
        command.Parameters.AddWithValue("blocked", blockedId);
        command.Parameters.AddWithValue("users", userIds.ToArray());
        var blockers = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            blockers.Add(reader.GetGuid(0));
        }

        return blockers;
    }
}
