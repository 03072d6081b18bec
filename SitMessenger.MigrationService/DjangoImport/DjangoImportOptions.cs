namespace SitMessenger.MigrationService.DjangoImport;

/// <summary>
/// Where the Django installation to move in is, bound from the <c>DjangoImport</c> section (the command's switches
/// map onto it; the AppHost passes <c>DjangoImport__*</c>). The target is this system's <c>ConnectionStrings__sitdb</c>
/// and its key ring (<c>ChatKeyRing__*</c>), the same the Api uses.
/// </summary>
internal sealed class DjangoImportOptions
{
    public const string SectionName = "DjangoImport";

    /// <summary>The original's PostgreSQL, Npgsql keyword format (<c>Host=...;Database=...;Username=...;Password=...</c>).</summary>
    public string Database { get; set; } = "";

    /// <summary>The original's MEDIA_ROOT (<c>/app/mediafiles</c> in its containers): chat files are under its <c>message_storage</c>.</summary>
    public string MediaRoot { get; set; } = "";

    /// <summary>The original's Redis (<c>host:port</c>, or a StackExchange.Redis configuration string); empty reads no cache.</summary>
    public string Redis { get; set; } = "";

    /// <summary>The Redis database django-redis used: the original's <c>CACHES</c> say <c>redis://redis:6379/1</c>.</summary>
    public int RedisDatabase { get; set; } = 1;

    /// <summary>Django's cache <c>KEY_PREFIX</c> (empty in the original) and <c>VERSION</c> (1): keys are <c>prefix:version:messages.&lt;chat id&gt;</c>.</summary>
    public string CacheKeyPrefix { get; set; } = "";

    public int CacheVersion { get; set; } = 1;

    /// <summary>Read, decrypt and check everything, report what would be imported, write nothing.</summary>
    public bool DryRun { get; set; }

    /// <summary>Chats imported at once. Each is its own transaction, so any number is safe; 0 means one per core.</summary>
    public int Parallelism { get; set; }

    public int EffectiveParallelism => Parallelism > 0 ? Parallelism : Math.Clamp(Environment.ProcessorCount, 1, 8);

    public static readonly Dictionary<string, string> CommandLineSwitches = new(StringComparer.Ordinal)
    {
        ["--database"] = $"{SectionName}:{nameof(Database)}",
        ["--media-root"] = $"{SectionName}:{nameof(MediaRoot)}",
        ["--redis"] = $"{SectionName}:{nameof(Redis)}",
        ["--redis-database"] = $"{SectionName}:{nameof(RedisDatabase)}",
        ["--cache-key-prefix"] = $"{SectionName}:{nameof(CacheKeyPrefix)}",
        ["--cache-version"] = $"{SectionName}:{nameof(CacheVersion)}",
        ["--dry-run"] = $"{SectionName}:{nameof(DryRun)}",
        ["--parallelism"] = $"{SectionName}:{nameof(Parallelism)}",
        ["--target"] = "ConnectionStrings:sitdb",
    };

    /// <summary>Every problem with these options, empty when usable. Never quotes the connection strings (they hold passwords).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Database))
        {
            errors.Add("--database (DjangoImport:Database) is required: the original's PostgreSQL, e.g. \"Host=db;Database=sit;Username=sit;Password=...\".");
        }

        if (string.IsNullOrWhiteSpace(MediaRoot))
        {
            errors.Add("--media-root (DjangoImport:MediaRoot) is required: the original's MEDIA_ROOT folder, which holds message_storage/.");
        }
        else if (!Directory.Exists(MediaRoot))
        {
            errors.Add($"--media-root {MediaRoot} is not a folder this process can see.");
        }

        if (RedisDatabase is < 0 or > 15)
        {
            errors.Add($"--redis-database {RedisDatabase} is not a Redis database number (0-15).");
        }

        if (CacheVersion < 1)
        {
            errors.Add("--cache-version must be 1 or more (Django's default is 1).");
        }

        if (Parallelism < 0)
        {
            errors.Add("--parallelism must be 0 (one per core) or more.");
        }

        return errors;
    }
}
