using Microsoft.AspNetCore.Identity;
using Npgsql;
using SitMessenger.Chat.Accounts;

namespace SitMessenger.Api.Accounts;

internal sealed record UserAccount(Guid Id, string Username, string Email);

internal sealed record UserSummary(Guid Id, string Username);

/// <summary>Users and friends in PostgreSQL. Passwords are stored as Identity's PBKDF2 hashes only.</summary>
internal sealed class UserStore(NpgsqlDataSource database, IPasswordHasher<UserAccount> hasher, TimeProvider time)
{
    private const string UniqueViolation = "23505";

    // Verifying against a real hash when the user does not exist keeps "no such user" as slow as "wrong password".
    private static readonly Lazy<string> DecoyHash = new(() => new PasswordHasher<UserAccount>().HashPassword(new UserAccount(Guid.Empty, "", ""), Guid.NewGuid().ToString()));

    /// <summary>
    /// The new account, or null when the username is taken: by the same name, or by one that looks alike (the same
    /// <see cref="UsernameSkeleton"/>, held unique by the database so two replicas cannot both admit look-alikes).
    /// </summary>
    public async Task<UserAccount?> CreateAsync(string username, string email, string password, CancellationToken cancellationToken)
    {
        var account = new UserAccount(Guid.CreateVersion7(), username, email);
        await using var command = database.CreateCommand(
            """
            INSERT INTO users (id, username, username_skeleton, email, password_hash, created)
            VALUES (@id, @username, @skeleton, @email, @hash, @now)
            """);
        command.Parameters.AddWithValue("id", account.Id);
        command.Parameters.AddWithValue("username", username);
        command.Parameters.AddWithValue("skeleton", UsernameSkeleton.Of(username));
        command.Parameters.AddWithValue("email", email);
        command.Parameters.AddWithValue("hash", hasher.HashPassword(account, password));
        command.Parameters.AddWithValue("now", time.GetUtcNow());
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
            return account;
        }
        catch (PostgresException ex) when (ex.SqlState == UniqueViolation)
        {
            return null;
        }
    }

    public async Task<UserAccount?> VerifyPasswordAsync(string username, string password, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("SELECT id, username, email, password_hash FROM users WHERE username = @username");
        command.Parameters.AddWithValue("username", username);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            hasher.VerifyHashedPassword(new UserAccount(Guid.Empty, username, ""), DecoyHash.Value, password);
            return null;
        }

        var account = new UserAccount(reader.GetGuid(0), reader.GetString(1), reader.GetString(2));
        var hash = reader.GetString(3);
        await reader.DisposeAsync();
        switch (hasher.VerifyHashedPassword(account, hash, password))
        {
            case PasswordVerificationResult.Failed:
                return null;
            case PasswordVerificationResult.SuccessRehashNeeded:
                await RehashAsync(account, hash, password, cancellationToken);
                break;
        }

        return account;
    }

    /// <summary>
    /// Stores the password again in the current format (accounts moved in from the Django version keep its hash until
    /// their first login). Only if the hash is still the one just verified: a password changed meanwhile stays changed.
    /// </summary>
    private async Task RehashAsync(UserAccount account, string verifiedHash, string password, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("UPDATE users SET password_hash = @new WHERE id = @id AND password_hash = @old");
        command.Parameters.AddWithValue("new", hasher.HashPassword(account, password));
        command.Parameters.AddWithValue("id", account.Id);
        command.Parameters.AddWithValue("old", verifiedHash);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<UserAccount?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("SELECT id, username, email FROM users WHERE id = @id");
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new UserAccount(reader.GetGuid(0), reader.GetString(1), reader.GetString(2)) : null;
    }

    public async Task<IReadOnlyList<UserSummary>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("SELECT id, username FROM users ORDER BY username");
        return await ReadSummariesAsync(command, cancellationToken);
    }

    /// <summary>Which of these ids belong to no user.</summary>
    public async Task<IReadOnlyList<Guid>> FindUnknownAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return [];
        }

        await using var command = database.CreateCommand("SELECT id FROM users WHERE id = ANY(@ids)");
        command.Parameters.AddWithValue("ids", ids.ToArray());
        var known = new HashSet<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            known.Add(reader.GetGuid(0));
        }

        return [.. ids.Where(id => !known.Contains(id))];
    }

    public async Task<IReadOnlyList<UserSummary>> ListFriendsAsync(Guid userId, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(
            "SELECT u.id, u.username FROM friends f JOIN users u ON u.id = f.friend_id WHERE f.user_id = @user ORDER BY u.username");
        command.Parameters.AddWithValue("user", userId);
        return await ReadSummariesAsync(command, cancellationToken);
    }

    public async Task ReplaceFriendsAsync(Guid userId, IReadOnlyCollection<Guid> friendIds, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var replace = new NpgsqlCommand(
            """
            DELETE FROM friends WHERE user_id = @user;
            INSERT INTO friends (user_id, friend_id) SELECT @user, unnest(@friends) ON CONFLICT DO NOTHING;
            """, connection, transaction);
        replace.Parameters.AddWithValue("user", userId);
        replace.Parameters.AddWithValue("friends", friendIds.ToArray());
        await replace.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task<IReadOnlyList<UserSummary>> ReadSummariesAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var users = new List<UserSummary>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            users.Add(new UserSummary(reader.GetGuid(0), reader.GetString(1)));
        }

        return users;
    }
}
