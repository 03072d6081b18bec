using Npgsql;
using SitMessenger.Chat.Accounts;

namespace SitMessenger.MigrationService;

/// <summary>
/// Fills in <c>users.username_skeleton</c> where it is missing (accounts made before 0002_username_skeletons.sql),
/// after the scripts ran. The SQL is the accounts' owner's (<see cref="UserStore.FillMissingSkeletonsAsync"/>); this
/// only reports. Idempotent: rows already filled (or left NULL for a clash) cost one look each run.
/// </summary>
internal static partial class UsernameSkeletonBackfill
{
    public static async Task RunAsync(NpgsqlDataSource dataSource, ILogger logger, CancellationToken cancellationToken)
    {
        var (filled, lookAlikes) = await new UserStore(dataSource).FillMissingSkeletonsAsync(cancellationToken);
        if (filled + lookAlikes > 0)
        {
            LogFilled(logger, filled, lookAlikes);
        }
    }

    // Counts only: the names themselves stay out of the logs.
    [LoggerMessage(Level = LogLevel.Information, Message = "Username skeletons filled in for {Filled} account(s); {Clashes} existing look-alike(s) of an older account left without one")]
    private static partial void LogFilled(ILogger logger, int filled, int clashes);
}
