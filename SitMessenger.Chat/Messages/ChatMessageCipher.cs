using System.Text.Json;
using Microsoft.Extensions.Caching.Memory;
using SitMessenger.Chat.Crypto;

namespace SitMessenger.Chat.Messages;

/// <summary>
/// Encrypts and decrypts chat messages with their chat's data key. Data keys are unwrapped by the key ring once and
/// kept in memory for a while: unwrapping on every message would cost an AES-GCM operation each time for nothing.
/// </summary>
public sealed class ChatMessageCipher(ChatKeyRing keyRing, IMemoryCache cache, TimeProvider time)
{
    private static readonly MemoryCacheEntryOptions KeyCaching = new()
    {
        SlidingExpiration = TimeSpan.FromMinutes(10),
        Size = 1,
    };

    public ChatKeyRing KeyRing { get; } = keyRing;

    /// <summary>The chat's data key, unwrapping it when not cached.</summary>
    public byte[] DataKey(Guid chatId, WrappedDataKey wrapped) =>
        cache.GetOrCreate(CacheKey(chatId), _ => KeyRing.Unwrap(wrapped), KeyCaching)!;

    /// <summary>The chat's data key if it was unwrapped recently.</summary>
    public byte[]? CachedDataKey(Guid chatId) => cache.Get<byte[]>(CacheKey(chatId));

    public void Forget(Guid chatId) => cache.Remove(CacheKey(chatId));

    public byte[] Encrypt(byte[] dataKey, ChatMessage message) =>
        Fernet.Encrypt(dataKey, JsonSerializer.SerializeToUtf8Bytes(message, ChatMessageJsonContext.Default.ChatMessage), time);

    /// <exception cref="InvalidFernetTokenException">The ciphertext was altered or belongs to another key.</exception>
    public ChatMessage Decrypt(byte[] dataKey, byte[] ciphertext) =>
        JsonSerializer.Deserialize(Fernet.Decrypt(dataKey, ciphertext, ttl: null, time), ChatMessageJsonContext.Default.ChatMessage)
        ?? throw new InvalidFernetTokenException("the token holds no message");

    private static string CacheKey(Guid chatId) => "chat-data-key:" + chatId.ToString("N");
}
