using Cronos;
using SitMessenger.Chat.Messaging;

namespace SitMessenger.Scheduler.Scheduling;

/// <summary>One recurring job with its cron expression parsed. All times are UTC.</summary>
internal sealed record ScheduledJob(string Name, string Type, string Queue, string Cron, CronExpression Expression, bool Enabled)
{
    /// <summary>
    /// The types that make sense on a timer. A flush needs a chat, so <see cref="JobTypes.FlushChat"/> is not one.
    /// </summary>
    public static IReadOnlySet<string> SchedulableTypes { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        JobTypes.SweepPending,
        JobTypes.DeleteExpiredTokens,
        JobTypes.RemoveOrphanSegments,
        JobTypes.CompactSegments,
    };

    /// <summary>The queues <see cref="JobQueues.DeclareAsync"/> creates; a job sent anywhere else would have no consumer.</summary>
    public static IReadOnlySet<string> Queues { get; } = new HashSet<string>(StringComparer.Ordinal) { JobQueues.Jobs, JobQueues.Flush };

    /// <summary>Null with the reason in <paramref name="error"/> when the configuration cannot be scheduled.</summary>
    public static ScheduledJob? TryCreate(string name, ScheduledJobOptions options, out string? error)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        var prefix = $"{SchedulerOptions.SectionName}:Jobs:{name}";
        error = null;

        if (string.IsNullOrWhiteSpace(name) || name.Contains(':', StringComparison.Ordinal))
        {
            // The name is part of Redis keys separated by ':'.
            error = $"{prefix}: a job name must be non-blank and contain no ':'.";
            return null;
        }

        if (string.IsNullOrWhiteSpace(options.Cron))
        {
            error = $"{prefix}:Cron is missing: give six fields, seconds first (e.g. \"0 */5 * * * *\").";
            return null;
        }

        if (!CronExpression.TryParse(options.Cron.Trim(), CronFormat.IncludeSeconds, out var expression))
        {
            error = $"{prefix}:Cron \"{options.Cron}\" is not a valid cron expression with seconds " +
                "(six fields: second minute hour day-of-month month day-of-week, e.g. \"0 */5 * * * *\").";
            return null;
        }

        if (!SchedulableTypes.Contains(options.Type))
        {
            error = $"{prefix}:Type \"{options.Type}\" is not a job type that can be scheduled (one of: {string.Join(", ", SchedulableTypes)}).";
            return null;
        }

        if (!Queues.Contains(options.Queue))
        {
            error = $"{prefix}:Queue \"{options.Queue}\" is not a job queue (one of: {string.Join(", ", Queues)}).";
            return null;
        }

        return new ScheduledJob(name, options.Type, options.Queue, options.Cron.Trim(), expression, options.Enabled);
    }

    /// <summary>The first occurrence strictly after <paramref name="after"/>; null if the expression never fires again.</summary>
    public DateTimeOffset? NextOccurrence(DateTimeOffset after) =>
        Expression.GetNextOccurrence(after.UtcDateTime, inclusive: false) is { } next ? new DateTimeOffset(next, TimeSpan.Zero) : null;

    /// <summary>The occurrences in (<paramref name="after"/>, <paramref name="upTo"/>], oldest first.</summary>
    public IEnumerable<DateTimeOffset> OccurrencesBetween(DateTimeOffset after, DateTimeOffset upTo) =>
        after >= upTo
            ? []
            : Expression.GetOccurrences(after.UtcDateTime, upTo.UtcDateTime, fromInclusive: false, toInclusive: true)
                .Select(at => new DateTimeOffset(at, TimeSpan.Zero));
}
