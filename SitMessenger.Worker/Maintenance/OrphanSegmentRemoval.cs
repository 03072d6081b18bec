using Microsoft.Extensions.Options;
using SitMessenger.Chat.Messaging;
using SitMessenger.Chat.Storage;
using SitMessenger.Worker.Flushing;
using SitMessenger.Worker.Jobs;

namespace SitMessenger.Worker.Maintenance;

/// <summary>
/// Deletes segment files no row points to: left by a flush that crashed before its commit, by compaction, or by a
/// deleted chat. Only after a grace period, so a flush between its write and its commit is never robbed.
/// </summary>
internal sealed partial class OrphanSegmentRemoval(
    ChatSegmentCatalog catalog,
    ISegmentStore segments,
    IOptions<SegmentPolicy> policy,
    TimeProvider time,
    ILogger<OrphanSegmentRemoval> logger) : IJobHandler
{
    public string JobType => JobTypes.RemoveOrphanSegments;

    public async Task<string> RunAsync(JobEnvelope job, CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - policy.Value.OrphanGracePeriod;
        var candidates = new List<StoredSegment>();
        await foreach (var stored in segments.ListAsync(cancellationToken))
        {
            if (stored.LastModified < cutoff)
            {
                candidates.Add(stored);
            }
        }

        // Files are listed before rows are read: a segment committed in between is then known, never deleted.
        var referenced = await catalog.ReferencedAsync([.. candidates.Select(c => c.Location)], cancellationToken);

        var removed = 0;
        foreach (var orphan in candidates.Where(c => c.IsTemporary || !referenced.Contains(c.Location)))
        {
            await segments.DeleteAsync(orphan.Location, cancellationToken);
            LogRemoved(logger, orphan.Location);
            removed++;
        }

        return $"removed {removed} orphaned segment files";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed orphaned segment file {Location}")]
    private static partial void LogRemoved(ILogger logger, string location);
}
