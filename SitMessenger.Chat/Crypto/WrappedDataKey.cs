namespace SitMessenger.Chat.Crypto;

/// <summary>
/// A per-chat data key sealed under a master key: <paramref name="Blob"/> is nonce (12) | ciphertext (32) | tag (16),
/// and <paramref name="KeyId"/> names the master key, so rotation only adds keys and old rows stay readable.
/// </summary>
public sealed record WrappedDataKey(string KeyId, byte[] Blob);
