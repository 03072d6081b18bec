namespace SitMessenger.Chat.Storage;

/// <summary>Where segment files live, e.g. <c>Segments__Root=/var/lib/sit/segments</c>.</summary>
public sealed class SegmentStoreOptions
{
    public const string SectionName = "Segments";

    /// <summary>
    /// Folder that holds one sub-folder per chat. Every service that reads or writes segments must see the same
    /// folder (a shared volume), because locations in the database are relative to it.
    /// </summary>
    public string Root { get; set; } = "";
}
