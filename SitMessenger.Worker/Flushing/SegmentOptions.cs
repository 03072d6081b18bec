namespace SitMessenger.Worker.Flushing;

/// <summary>Section "Segments" (the Worker's side; the store's root is in SegmentStoreOptions).</summary>
internal sealed class SegmentPolicy
{
    public const string SectionName = "Segments";

    /// <summary>Largest segment a flush or a compaction writes: reads of any window stay bounded.</summary>
    public int MaxMessagesPerSegment { get; set; } = 2000;

    /// <summary>Segments smaller than this are merged by compaction.</summary>
    public int SmallSegmentMessages { get; set; } = 200;

    /// <summary>Compaction runs for a chat once it has this many small segments in a row.</summary>
    public int CompactAfterSmallSegments { get; set; } = 4;

    /// <summary>How long a file no row points to is kept: a flush in progress, or a reader of a just-compacted segment.</summary>
    public TimeSpan OrphanGracePeriod { get; set; } = TimeSpan.FromHours(1);
}
