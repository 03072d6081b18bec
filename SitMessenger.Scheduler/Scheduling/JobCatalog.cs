using Microsoft.Extensions.Options;

namespace SitMessenger.Scheduler.Scheduling;

/// <summary>The configured jobs, parsed once. Options are validated before this is built, so parsing cannot fail here.</summary>
internal sealed class JobCatalog(IOptions<SchedulerOptions> options)
{
    public IReadOnlyList<ScheduledJob> Jobs { get; } = [.. options.Value.Jobs
        .Select(entry => ScheduledJob.TryCreate(entry.Key, entry.Value, out var error) ?? throw new InvalidOperationException(error))
        .OrderBy(job => job.Name, StringComparer.Ordinal)];

    public ScheduledJob? Find(string name) =>
        Jobs.FirstOrDefault(job => string.Equals(job.Name, name, StringComparison.OrdinalIgnoreCase));
}
