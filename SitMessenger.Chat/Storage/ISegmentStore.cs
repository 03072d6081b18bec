namespace SitMessenger.Chat.Storage;

/// <summary>
/// Where segment files are kept. Behind an interface so production can swap the shared volume for an object store;
/// the contract is the one an object store can also honour: whole-object writes under unique names, no overwrites.
/// </summary>
public interface ISegmentStore
{
    /// <summary>
    /// Stores a new segment under a name no other write can get, and returns only once the bytes and the name are
    /// durable, so the caller may record the location in the database and delete the source rows.
    /// </summary>
    /// <returns>The store-relative location to keep in the database.</returns>
    Task<string> WriteAsync(Guid chatId, long firstSeq, long lastSeq, ReadOnlyMemory<byte> contents, CancellationToken cancellationToken);

    /// <summary>The whole file at <paramref name="location"/>.</summary>
    /// <exception cref="SegmentNotFoundException">Nothing is stored there.</exception>
    /// <exception cref="ArgumentException">The location is not a store-relative path (rooted, or contains "..").</exception>
    Task<byte[]> ReadAsync(string location, CancellationToken cancellationToken);

    /// <summary>Removes the file; does nothing if it is already gone, so a retried cleanup job is harmless.</summary>
    /// <exception cref="ArgumentException">The location is not a store-relative path (rooted, or contains "..").</exception>
    Task DeleteAsync(string location, CancellationToken cancellationToken);

    /// <summary>Every segment file and every leftover temporary file, in no particular order.</summary>
    IAsyncEnumerable<StoredSegment> ListAsync(CancellationToken cancellationToken);
}
