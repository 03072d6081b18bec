namespace SitMessenger.Chat.Storage;

/// <summary>
/// A location the database points at has no file behind it. Distinct from <see cref="CorruptSegmentException"/>
/// because the remedies differ: a missing file means lost data or a stale row, not damaged bytes.
/// </summary>
public sealed class SegmentNotFoundException : Exception
{
    public SegmentNotFoundException()
        : base("Segment not found.")
    {
    }

    public SegmentNotFoundException(string message)
        : base(message)
    {
    }

    public SegmentNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public SegmentNotFoundException(string message, string? location, Exception? innerException = null)
        : base(message, innerException)
    {
        Location = location;
    }

    /// <summary>The store location that was asked for.</summary>
    public string? Location { get; }
}
