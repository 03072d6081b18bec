using SitMessenger.Chat.Messages;

namespace SitMessenger.Chat.Storage;

/// <summary>A verified segment: whose messages, which master key wrapped the chat's data key, and the messages in order.</summary>
public sealed record SegmentContents(
    Guid ChatId,
    string KeyId,
    long FirstSeq,
    long LastSeq,
    IReadOnlyList<EncryptedMessage> Messages);
