using System.Globalization;
using StackExchange.Redis;

namespace SitMessenger.Scheduler.Scheduling;

/// <summary>The latest run of a job, as whichever instance ran it recorded it.</summary>
internal sealed record JobRun(DateTimeOffset? LastRun, string? LastResult, string? LastJobId)
{
    public static JobRun None { get; } = new(null, null, null);
}

/// <summary>
/// Each job's latest run in a Redis hash rather than in memory, so every replica (a follower, or the next leader)
/// shows the same history.
/// </summary>
internal sealed class JobHistory(IConnectionMultiplexer redis)
{
    public const string Published = "published";

    private const string LastRunField = "last_run";
    private const string LastResultField = "last_result";
    private const string LastJobIdField = "last_job_id";

    public static string Key(string jobName) => $"scheduler:job:{jobName}";

    /// <param name="jobId">The published job's id; null when nothing was published, which clears the previous one.</param>
    public async Task RecordAsync(string jobName, DateTimeOffset at, string result, string? jobId, CancellationToken cancellationToken)
    {
        await redis.GetDatabase().HashSetAsync(Key(jobName),
        [
            new HashEntry(LastRunField, at.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture)),
            new HashEntry(LastResultField, result),
            new HashEntry(LastJobIdField, jobId ?? ""),
        ]).WaitAsync(cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, JobRun>> GetAsync(IEnumerable<string> jobNames, CancellationToken cancellationToken)
    {
        var database = redis.GetDatabase();
        // Started together so the multiplexer pipelines them: one round trip, not one per job.
        var reads = jobNames.Select(async name => (name, fields: await database.HashGetAllAsync(Key(name)))).ToList();
        var results = await Task.WhenAll(reads).WaitAsync(cancellationToken);
        return results.ToDictionary(r => r.name, r => Parse(r.fields), StringComparer.Ordinal);
    }

    private static JobRun Parse(HashEntry[] fields)
    {
        var values = fields.ToDictionary(f => f.Name.ToString(), f => f.Value.ToString(), StringComparer.Ordinal);
        var lastRun = values.TryGetValue(LastRunField, out var text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at)
                ? at
                : (DateTimeOffset?)null;
        return new JobRun(lastRun, NullIfEmpty(values.GetValueOrDefault(LastResultField)), NullIfEmpty(values.GetValueOrDefault(LastJobIdField)));
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
