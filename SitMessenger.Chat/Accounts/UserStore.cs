using Npgsql;
using NpgsqlTypes;

namespace SitMessenger.Chat.Accounts;

public sealed record UserAccount(Guid Id, string Username, string Email);

public sealed record UserSummary(Guid Id, string Username);

/// <summary>An account with the password hash it is stored with, for the login to verify.</summary>
public sealed record UserCredentials(UserAccount Account, string PasswordHash);

/// <summary>
/// Users and friends in PostgreSQL: the one owner of the SQL of <c>users</c> and <c>friends</c>, for the Api
/// (registration, login, lists, friends), the migrator (skeleton backfill) and the Django import. Why one owner: the
/// rules these tables keep (a look-alike is a taken name, a hash is replaced only if unchanged, friends only between
/// accounts) then hold the same for every deployable, instead of drifting apart in copies of the SQL. Other tables'
/// owners may join <c>users</c> to read a username; none writes it. Passwords arrive hashed: hashing is the caller's.
/// </summary>
public sealed class UserStore(NpgsqlDataSource database)
{
    private const string UniqueViolation = "23505";

    /// <summary>
    /// False when the username is taken: by the same name, or by one that looks alike (the same
    /// <see cref="UsernameSkeleton"/>, held unique by the database so two replicas cannot both admit look-alikes).
    /// </summary>
    public async Task<bool> CreateAsync(UserAccount account, string passwordHash, DateTimeOffset created, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(account);
        await using var command = database.CreateCommand(
            """
            INSERT INTO users (id, username, username_skeleton, email, password_hash, created)
            VALUES (@id, @username, @skeleton, @email, @hash, @now)
            """);
        command.Parameters.AddWithValue("id", account.Id);
        command.Parameters.AddWithValue("username", account.Username);
        command.Parameters.AddWithValue("skeleton", UsernameSkeleton.Of(account.Username));
        command.Parameters.AddWithValue("email", account.Email);
        command.Parameters.AddWithValue("hash", passwordHash);
        command.Parameters.AddWithValue("now", created);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
            return true;
        }
        catch (PostgresException ex) when (ex.SqlState == UniqueViolation)
        {
            return false;
        }
    }

    /// <summary>The account of exactly this username (as typed: a login names its account), with its hash.</summary>
    public async Task<UserCredentials?> FindCredentialsAsync(string username, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("SELECT id, username, email, password_hash FROM users WHERE username = @username");
        command.Parameters.AddWithValue("username", username);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new UserCredentials(new UserAccount(reader.GetGuid(0), reader.GetString(1), reader.GetString(2)), reader.GetString(3))
            : null;
    }

    /// <summary>
    /// Stores <paramref name="newHash"/> only if the hash is still <paramref name="verifiedHash"/>: a password changed
    /// meanwhile stays changed. False when it was not replaced.
    /// </summary>
    public async Task<bool> ReplacePasswordHashAsync(Guid userId, string verifiedHash, string newHash, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("UPDATE users SET password_hash = @new WHERE id = @id AND password_hash = @old");
        command.Parameters.AddWithValue("new", newHash);
        command.Parameters.AddWithValue("id", userId);
        command.Parameters.AddWithValue("old", verifiedHash);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<UserAccount?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("SELECT id, username, email FROM users WHERE id = @id");
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new UserAccount(reader.GetGuid(0), reader.GetString(1), reader.GetString(2)) : null;
    }

    public async Task<bool> ExistsAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("SELECT 1 FROM users WHERE id = @id");
        command.Parameters.AddWithValue("id", id);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    public async Task<IReadOnlyList<UserSummary>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("SELECT id, username FROM users ORDER BY username");
        return await ReadSummariesAsync(command, cancellationToken);
    }

    /// <summary>Which of these ids belong to no user.</summary>
    public async Task<IReadOnlyList<Guid>> FindUnknownAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
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
        ArgumentNullException.ThrowIfNull(friendIds);
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

    /// <summary>
    /// Fills in <c>username_skeleton</c> where it is missing (accounts made before 0002_username_skeletons.sql), oldest
    /// first, so of existing look-alikes the first account holds the skeleton; a later one keeps NULL and keeps working.
    /// Idempotent. Returns how many were filled and how many were left without one as look-alikes.
    /// </summary>
    public async Task<(int Filled, int LookAlikes)> FillMissingSkeletonsAsync(CancellationToken cancellationToken)
    {
        var missing = new List<(Guid Id, string Username)>();
        await using (var select = database.CreateCommand("SELECT id, username FROM users WHERE username_skeleton IS NULL ORDER BY created, id"))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                missing.Add((reader.GetGuid(0), reader.GetString(1)));
            }
        }

        var lookAlikes = 0;
        foreach (var (id, username) in missing)
        {
            await using var update = database.CreateCommand("UPDATE users SET username_skeleton = @skeleton WHERE id = @id");
            update.Parameters.AddWithValue("skeleton", UsernameSkeleton.Of(username));
            update.Parameters.AddWithValue("id", id);
            try
            {
                await update.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException ex) when (ex.SqlState == UniqueViolation)
            {
                lookAlikes++;
            }
        }

        return (missing.Count - lookAlikes, lookAlikes);
    }

    /// <summary>
    /// The imported accounts that clash with an existing account: the same name or skeleton under another id, or the
    /// same id under another name. An account already there with its id and name is no clash (an earlier run imported it).
    /// </summary>
    public async Task<AccountCheck> CheckImportedAsync(IReadOnlyList<ImportedAccount> accounts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        var existing = new List<(Guid Id, string Username, string? Skeleton)>();
        await using (var command = database.CreateCommand(
            "SELECT id, username, username_skeleton FROM users WHERE id = ANY(@ids) OR username = ANY(@names) OR username_skeleton = ANY(@skeletons)"))
        {
            command.Parameters.AddWithValue("ids", accounts.Select(a => a.Id).ToArray());
            command.Parameters.AddWithValue("names", accounts.Select(a => a.Username).ToArray());
            command.Parameters.AddWithValue("skeletons", accounts.Select(a => UsernameSkeleton.Of(a.Username)).ToArray());
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                existing.Add((reader.GetGuid(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
            }
        }

        var clashes = new List<AccountClash>();
        var alreadyThere = 0;
        foreach (var account in accounts)
        {
            var skeleton = UsernameSkeleton.Of(account.Username);
            foreach (var other in existing)
            {
                var sameId = other.Id == account.Id;
                var sameName = string.Equals(other.Username, account.Username, StringComparison.Ordinal);
                if (sameId && sameName)
                {
                    alreadyThere++;
                }
                else if (sameId)
                {
                    clashes.Add(new AccountClash(account, other.Id, "an account with this id already exists under another username"));
                }
                else if (sameName)
                {
                    clashes.Add(new AccountClash(account, other.Id, "another account already has this username"));
                }
                else if (account.Skeleton is not null && other.Skeleton == skeleton)
                {
                    clashes.Add(new AccountClash(account, other.Id, "another account already has a username that looks the same"));
                }
            }
        }

        return new AccountCheck(clashes, alreadyThere);
    }

    /// <summary>
    /// Inserts the imported accounts not yet there (ids, hashes and created times kept, so an import never goes through
    /// the registration rules meant for new accounts) and the friendships between accounts that are, in one
    /// transaction: all or nothing. Null when an account clashed after all (someone registered the name meanwhile):
    /// nothing was written.
    /// </summary>
    public async Task<AccountImport?> WriteImportedAsync(
        IReadOnlyList<ImportedAccount> accounts, IReadOnlyList<(Guid User, Guid Friend)> friendships, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        ArgumentNullException.ThrowIfNull(friendships);
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        int usersAdded;
        await using (var users = new NpgsqlCommand(
            """
            INSERT INTO users (id, username, username_skeleton, email, password_hash, created)
            SELECT * FROM unnest(@ids, @names, @skeletons, @emails, @hashes, @created)
            ON CONFLICT (id) DO NOTHING
            """, connection, transaction))
        {
            users.Parameters.AddWithValue("ids", accounts.Select(a => a.Id).ToArray());
            users.Parameters.AddWithValue("names", accounts.Select(a => a.Username).ToArray());
            users.Parameters.Add(new NpgsqlParameter("skeletons", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = accounts.Select(a => a.Skeleton).ToArray() });
            users.Parameters.AddWithValue("emails", accounts.Select(a => a.Email).ToArray());
            users.Parameters.AddWithValue("hashes", accounts.Select(a => a.PasswordHash).ToArray());
            users.Parameters.Add(new NpgsqlParameter("created", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = accounts.Select(a => a.Created).ToArray() });
            try
            {
                usersAdded = await users.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException ex) when (ex.SqlState == UniqueViolation)
            {
                return null;
            }
        }

        await using var friends = new NpgsqlCommand(
            """
            INSERT INTO friends (user_id, friend_id)
            SELECT f.user_id, f.friend_id FROM unnest(@users, @friends) AS f (user_id, friend_id)
            WHERE EXISTS (SELECT 1 FROM users WHERE id = f.user_id) AND EXISTS (SELECT 1 FROM users WHERE id = f.friend_id)
            ON CONFLICT DO NOTHING
            """, connection, transaction);
        friends.Parameters.AddWithValue("users", friendships.Select(f => f.User).ToArray());
        friends.Parameters.AddWithValue("friends", friendships.Select(f => f.Friend).ToArray());
        var friendshipsAdded = await friends.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new AccountImport(usersAdded, accounts.Count - usersAdded, friendshipsAdded);
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
