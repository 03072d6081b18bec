namespace SitMessenger.Worker.Jobs;

/// <summary>Section "Jobs".</summary>
internal sealed class JobOptions
{
    public const string SectionName = "Jobs";

    /// <summary>Attempts before a job goes to the dead-letter queue.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Wait before the first retry; doubled for each further one.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Unacknowledged jobs a Worker holds per queue.</summary>
    public ushort Prefetch { get; set; } = 8;

    public TimeSpan RetryDelay(int failedAttempt) =>
        TimeSpan.FromTicks(Math.Min(RetryMaxDelay.Ticks, RetryBaseDelay.Ticks << Math.Min(failedAttempt - 1, 20)));
}
