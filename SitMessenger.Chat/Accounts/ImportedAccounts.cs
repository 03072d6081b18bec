using Npgsql;
using NpgsqlTypes;

namespace SitMessenger.Chat.Accounts;

/// <summary>An account as it comes over from another installation, its password hash kept as that one wrote it.</summary>
/// <param name="Skeleton">Its look-alike skeleton, or null for a younger look-alike of another imported account.</param>
public sealed record ImportedAccount(Guid Id, string Username, string Email, string PasswordHash, DateTime Created, string? Skeleton);

/// <summary>Why an imported account cannot be written: an existing, different account has its name or a look-alike of it.</summary>
public sealed record AccountClash(ImportedAccount Account, Guid ExistingId, string Reason);

/// <summary>The clashes of a set of imported accounts, and how many of them are there already (an earlier run).</summary>
public sealed record AccountCheck(IReadOnlyList<AccountClash> Clashes, int AlreadyThere);

/// <summary>What writing the accounts did: rows new this time (0 and 0 when everything was already there).</summary>
public sealed record AccountImport(int UsersAdded, int UsersAlreadyThere, int FriendshipsAdded);

/// <summary>
/// The writes of an import of accounts and friendships into <c>users</c> and <c>friends</c>. The Api's UserStore owns
/// those tables for everything else; this holds only the bulk insert an import needs (ids, hashes and created times
/// kept), so an import never goes through registration rules meant for new accounts.
/// </summary>
public sealed class ImportedAccounts(NpgsqlDataSource database)
{
    private const string UniqueViolation = "23505";

    /// <summary>
    /// The accounts that clash with an existing account: the same name or skeleton under another id, or the same id
    /// under another name. An account already there with its id and name is no clash (an earlier run imported it).
    /// </summary>
    public async Task<AccountCheck> CheckAsync(IReadOnlyList<ImportedAccount> accounts, CancellationToken cancellationToken)
    {
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
                    continue;
                }

                if (sameId)
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
    /// Inserts the accounts not yet there and the friendships between accounts that are, in one transaction: all or
    /// nothing. Null when an account clashed after all (someone registered the name meanwhile): nothing was written.
    /// </summary>
    public async Task<AccountImport?> WriteAsync(
        IReadOnlyList<ImportedAccount> accounts, IReadOnlyList<(Guid User, Guid Friend)> friendships, CancellationToken cancellationToken)
    {
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
}
