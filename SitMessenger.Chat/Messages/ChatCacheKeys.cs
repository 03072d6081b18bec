namespace SitMessenger.Chat.Messages;

/// <summary>Redis key names shared by the Api (which fills the cache) and the Worker (which trims what it flushed).</summary>
public static class ChatCacheKeys
{
    /// <summary>A sorted set of a chat's pending ciphertexts, scored by sequence number.</summary>
    public static string Pending(Guid chatId) => $"chat:{chatId:N}:pending";
}
