using System.Reflection;
using DbUp;
using DbUp.Engine.Output;
using Npgsql;

namespace SitMessenger.MigrationService;

/// <summary>
/// Applies the embedded SQL migrations in name order, each once (DbUp's journal). A PostgreSQL advisory lock
/// makes two migrators started at once take turns instead of racing on the journal.
/// </summary>
internal sealed partial class SchemaMigrator(
    NpgsqlDataSource dataSource,
    IConfiguration configuration,
    IHostApplicationLifetime lifetime,
    ILogger<SchemaMigrator> logger) : BackgroundService
{
    // Arbitrary but fixed: every migrator instance must ask for the same lock.
    private const long MigrationLockKey = 0x5174_4d65_7373_0001;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await using var lockConnection = await dataSource.OpenConnectionAsync(stoppingToken);
            await using (var take = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", lockConnection))
            {
                take.Parameters.AddWithValue("key", MigrationLockKey);
                await take.ExecuteNonQueryAsync(stoppingToken);
            }

            var upgrader = DeployChanges.To
                // The data source's own string has the password stripped; DbUp opens its own connections.
                .PostgresqlDatabase(configuration.GetConnectionString("sitdb"))
                .WithScriptsEmbeddedInAssembly(Assembly.GetExecutingAssembly())
                .WithTransactionPerScript()
                .LogTo(new DbUpLog(logger))
                .Build();

            var result = upgrader.PerformUpgrade();
            if (!result.Successful)
            {
                LogMigrationFailed(logger, result.ErrorScript?.Name ?? "(before any script ran)", result.Error);
                Environment.ExitCode = 1;
            }
            else
            {
                await UsernameSkeletonBackfill.RunAsync(dataSource, logger, stoppingToken);
                LogMigrated(logger, result.Scripts.Count());
            }
        }
        catch (NpgsqlException ex)
        {
            LogDatabaseUnreachable(logger, ex);
            Environment.ExitCode = 2;
        }
        finally
        {
            lifetime.StopApplication();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Schema is up to date ({Applied} migration(s) applied now)")]
    private static partial void LogMigrated(ILogger logger, int applied);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Migration {Script} failed; the schema is left at the last good migration. Fix the script and run again")]
    private static partial void LogMigrationFailed(ILogger logger, string script, Exception error);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Cannot reach PostgreSQL to migrate; check ConnectionStrings__sitdb and that the server is up")]
    private static partial void LogDatabaseUnreachable(ILogger logger, Exception error);

    private sealed class DbUpLog(ILogger logger) : IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) { }

        public void LogDebug(string format, params object[] args) { }

        public void LogInformation(string format, params object[] args) =>
            logger.LogInformation("{DbUpMessage}", string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));

        public void LogWarning(string format, params object[] args) =>
            logger.LogWarning("{DbUpMessage}", string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));

        public void LogError(string format, params object[] args) =>
            logger.LogError("{DbUpMessage}", string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));

        public void LogError(Exception ex, string format, params object[] args) =>
            logger.LogError(ex, "{DbUpMessage}", string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));
    }
}
