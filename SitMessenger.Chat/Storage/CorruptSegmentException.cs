namespace SitMessenger.Chat.Storage;

/// <summary>
/// A segment file failed verification: damaged on disk, truncated, or not the file the database row describes.
/// The message says which check failed, for logs and alerts; it never carries ciphertext, so it is safe to log.
/// </summary>
public sealed class CorruptSegmentException : Exception
{
    public CorruptSegmentException()
        : base("Corrupt segment.")
    {
    }

    public CorruptSegmentException(string message)
        : base(message)
    {
    }

    public CorruptSegmentException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <param name="message">What is wrong, without the location; the location is appended.</param>
    /// <param name="location">The store location of the file, when the caller knows it.</param>
    /// <param name="innerException">The failure this one wraps, if any.</param>
    public CorruptSegmentException(string message, string? location, Exception? innerException = null)
        : base(location is null ? message : $"{message} (segment '{location}')", innerException)
    {
        Location = location;
    }

    /// <summary>The store location of the damaged file, or null when the bytes were checked without one.</summary>
    public string? Location { get; }
}
