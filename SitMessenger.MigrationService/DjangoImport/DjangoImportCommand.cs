using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Npgsql;
using SitMessenger.Chat.Accounts;
using SitMessenger.Chat.Crypto;
using SitMessenger.Chat.Messages;
using SitMessenger.Chat.Storage;

namespace SitMessenger.MigrationService.DjangoImport;

/// <summary>
/// <c>SitMessenger.MigrationService import-django --database "Host=..." --media-root DIR [--redis host:port] [--dry-run]</c>:
/// the one-shot import of a Django installation into this system's database (<c>ConnectionStrings__sitdb</c> or
/// <c>--target</c>), encrypted under this system's key ring (<c>ChatKeyRing__*</c>, the Api's).
/// </summary>
internal static partial class DjangoImportCommand
{
    public const string Name = "import-django";

    public static async Task<int> RunAsync(string[] args)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddCommandLine(WithFlagValues(args), DjangoImportOptions.CommandLineSwitches);
        builder.AddServiceDefaults();

        var options = builder.Configuration.GetSection(DjangoImportOptions.SectionName).Get<DjangoImportOptions>() ?? new();
        var keyRingOptions = builder.Configuration.GetSection(ChatKeyRingOptions.SectionName).Get<ChatKeyRingOptions>() ?? new();
        var errors = options.Validate().Concat(keyRingOptions.Validate()
            .Select(e => e + " The import encrypts with the Api's key ring: give it the same ChatKeyRing__Keys__<id> and ChatKeyRing__ActiveKeyId.")).ToList();
        if (string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("sitdb")))
        {
            errors.Add("No target database: set ConnectionStrings__sitdb (the AppHost does) or give --target \"Host=...\".");
        }

        var report = new ImportReport(Console.Out);
        if (errors.Count > 0)
        {
            errors.ForEach(report.Error);
            return ImportExitCodes.BadSetup;
        }

        builder.AddPostgresDataSource("sitdb");
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(report);
        builder.Services.AddSingleton(ChatKeyRing.FromOptions(keyRingOptions));
        builder.Services.AddMemoryCache(cache => cache.SizeLimit = 1024);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ChatMessageCipher>();
        builder.Services.AddSingleton<UserStore>();
        builder.Services.AddSingleton<ChatStore>();
        using var host = builder.Build();
        var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DjangoImportCommand));

        using var stopping = new CancellationTokenSource();
        using var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            stopping.Cancel();
        });
        using var terminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stopping.Cancel();
        });

        await using var sourceDatabase = NpgsqlDataSource.Create(options.Database);
        DjangoCache? cache = null;
        try
        {
            if (!await IsDjangoDatabaseAsync(sourceDatabase, stopping.Token))
            {
                report.Error("--database has no messenger_customuser, messenger_chatdata, messenger_chatdata_owner and messenger_crypt tables: it is not the original's database.");
                return ImportExitCodes.BadSetup;
            }

            if (!string.IsNullOrWhiteSpace(options.Redis))
            {
                try
                {
                    cache = await DjangoCache.ConnectAsync(options);
                }
                catch (Exception ex) when (ex is StackExchange.Redis.RedisConnectionException or ArgumentException)
                {
                    report.Error($"Cannot reach the original's Redis given by --redis ({ex.GetType().Name}): check the address and that it runs. Its unflushed messages would be lost without it.");
                    return ImportExitCodes.BadSetup;
                }
            }

            var importer = new DjangoImporter(
                options,
                new DjangoSource(sourceDatabase),
                cache,
                host.Services.GetRequiredService<NpgsqlDataSource>(),
                host.Services.GetRequiredService<UserStore>(),
                host.Services.GetRequiredService<ChatStore>(),
                host.Services.GetRequiredService<ChatMessageCipher>(),
                report,
                host.Services.GetRequiredService<ILogger<DjangoImporter>>());
            return await importer.RunAsync(stopping.Token);
        }
        catch (NpgsqlException ex) when (!stopping.IsCancellationRequested)
        {
            // Npgsql's messages name the host and the failing statement, never the password.
            LogDatabaseFailed(logger, ex);
            report.Error($"A database failed during the import ({ex.Message}). Check --database and ConnectionStrings__sitdb; what was imported stays complete, so run again once it answers.");
            return ImportExitCodes.BadSetup;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            report.Error("Interrupted. Each finished chat is complete; run the same command again to continue.");
            return ImportExitCodes.Interrupted;
        }
        finally
        {
            if (cache is not null)
            {
                await cache.DisposeAsync();
            }
        }
    }

    /// <summary>A bare <c>--dry-run</c> means true; the configuration's command line reader would take the next switch as its value.</summary>
    private static string[] WithFlagValues(string[] args) =>
        [.. args.Select((arg, i) => arg == "--dry-run" && (i + 1 >= args.Length || args[i + 1].StartsWith('-')) ? "--dry-run=true" : arg)];

    private static async Task<bool> IsDjangoDatabaseAsync(NpgsqlDataSource source, CancellationToken cancellationToken)
    {
        await using var command = source.CreateCommand(
            """
            SELECT to_regclass('messenger_customuser') IS NOT NULL AND to_regclass('messenger_chatdata') IS NOT NULL
               AND to_regclass('messenger_chatdata_owner') IS NOT NULL AND to_regclass('messenger_crypt') IS NOT NULL
            """);
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "The Django import stopped on a database error")]
    private static partial void LogDatabaseFailed(ILogger logger, Exception error);
}
