using Npgsql;
using SitMessenger.Chat.Accounts;

namespace SitMessenger.MigrationService;

/// <summary>
/// Fills in <c>users.username_skeleton</c> where it is missing (accounts made before 0002_username_skeletons.sql).
/// Oldest first, so of existing look-alikes the first account holds the skeleton; a later one keeps NULL and keeps
/// working. Idempotent: rows already filled (or left NULL for a clash) cost one look each run.
/// </summary>
internal static partial class UsernameSkeletonBackfill
{
    private const string UniqueViolation = "23505";

    public static async Task RunAsync(NpgsqlDataSource dataSource, ILogger logger, CancellationToken cancellationToken)
    {
        var missing = new List<(Guid Id, string Username)>();
        await using (var select = dataSource.CreateCommand("SELECT id, username FROM users WHERE username_skeleton IS NULL ORDER BY created, id"))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                missing.Add((reader.GetGuid(0), reader.GetString(1)));
            }
        }

        var clashes = 0;
        foreach (var (id, username) in missing)
        {
            await using var update = dataSource.CreateCommand("UPDATE users SET username_skeleton = @skeleton WHERE id = @id");
            update.Parameters.AddWithValue("skeleton", UsernameSkeleton.Of(username));
            update.Parameters.AddWithValue("id", id);
            try
            {
                await update.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException ex) when (ex.SqlState == UniqueViolation)
            {
                clashes++;
            }
        }

        if (missing.Count > 0)
        {
            LogFilled(logger, missing.Count - clashes, clashes);
        }
    }

    // Counts only: the names themselves stay out of the logs.
    [LoggerMessage(Level = LogLevel.Information, Message = "Username skeletons filled in for {Filled} account(s); {Clashes} existing look-alike(s) of an older account left without one")]
    private static partial void LogFilled(ILogger logger, int filled, int clashes);
}
