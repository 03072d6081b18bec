namespace SitMessenger.Chat.Storage;

/// <summary>One file in a segment store, as the orphan sweeper sees it.</summary>
/// <param name="Location">Store-relative path, the same string <see cref="ISegmentStore.WriteAsync"/> returns.</param>
/// <param name="LastModified">Last write time, UTC; the sweeper only removes files older than its grace period.</param>
/// <param name="IsTemporary">A write that never finished (crashed before the rename); never referenced by the database.</param>
public sealed record StoredSegment(string Location, DateTimeOffset LastModified, bool IsTemporary);
