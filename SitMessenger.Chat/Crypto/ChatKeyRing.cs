using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;

namespace SitMessenger.Chat.Crypto;

/// <summary>
/// Master keys that wrap the per-chat Fernet data keys (envelope encryption) with AES-256-GCM. Exactly one key is
/// active and wraps new data keys; every key still unwraps, so rotating adds a key and flips the active id.
/// </summary>
public sealed class ChatKeyRing
{
    public const int MasterKeySize = 32;
    public const int DataKeySize = Fernet.KeySize;

    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int BlobSize = NonceSize + DataKeySize + TagSize;

    private readonly FrozenDictionary<string, byte[]> _keys;

    /// <param name="activeKeyId">The id whose key wraps new data keys; it must be among <paramref name="keys"/>.</param>
    /// <param name="keys">Key id → 32-byte master key. The bytes are copied.</param>
    public ChatKeyRing(string activeKeyId, IReadOnlyDictionary<string, byte[]> keys)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(activeKeyId);
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var (id, key) in keys)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(id, nameof(keys));
            if (key is not { Length: MasterKeySize })
            {
                throw new ArgumentException($"Master key '{id}' must be {MasterKeySize} bytes.", nameof(keys));
            }
        }

        if (!keys.ContainsKey(activeKeyId))
        {
            throw new ArgumentException($"Active master key '{activeKeyId}' is not in the key ring.", nameof(activeKeyId));
        }

        _keys = keys.ToFrozenDictionary(pair => pair.Key, pair => pair.Value.ToArray(), StringComparer.Ordinal);
        ActiveKeyId = activeKeyId;
    }

    public string ActiveKeyId { get; }

    public IReadOnlyCollection<string> KeyIds => _keys.Keys;

    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static ChatKeyRing FromOptions(ChatKeyRingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid key ring options: " + string.Join(" ", errors), nameof(options));
        }

        var keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        try
        {
            foreach (var (id, text) in options.Keys)
            {
                keys[id] = ChatKeyRingOptions.DecodeKey(text);
            }

            return new ChatKeyRing(options.ActiveKeyId, keys);
        }
        finally
        {
            foreach (var key in keys.Values)
            {
                CryptographicOperations.ZeroMemory(key);
            }
        }
    }

    /// <summary>Base64 of 32 random bytes: a new master key for configuration or a secret store.</summary>
    public static string GenerateMasterKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(MasterKeySize));

    /// <summary>A random 32-byte Fernet key for a new chat.</summary>
    // An instance member so callers get data keys from the same injected ring that wraps them.
    public byte[] NewDataKey() => RandomNumberGenerator.GetBytes(DataKeySize);

    public WrappedDataKey Wrap(ReadOnlySpan<byte> dataKey)
    {
        if (dataKey.Length != DataKeySize)
        {
            throw new ArgumentException($"A data key is {DataKeySize} bytes, not {dataKey.Length}.", nameof(dataKey));
        }

        var blob = new byte[BlobSize];
        var nonce = blob.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_keys[ActiveKeyId], TagSize);
        aes.Encrypt(nonce, dataKey, blob.AsSpan(NonceSize, DataKeySize), blob.AsSpan(NonceSize + DataKeySize), Encoding.UTF8.GetBytes(ActiveKeyId));
        return new WrappedDataKey(ActiveKeyId, blob);
    }

    /// <exception cref="KeyRingException">The key id is unknown, or the blob was tampered with or relabelled.</exception>
    public byte[] Unwrap(WrappedDataKey wrapped)
    {
        ArgumentNullException.ThrowIfNull(wrapped);
        if (wrapped.KeyId is null || !_keys.TryGetValue(wrapped.KeyId, out var masterKey))
        {
            throw new KeyRingException($"Data key was wrapped under master key '{wrapped.KeyId}', which is not in the key ring.");
        }

        if (wrapped.Blob is not { Length: BlobSize } blob)
        {
            throw new KeyRingException($"Data key wrapped under master key '{wrapped.KeyId}' has a malformed blob ({wrapped.Blob?.Length ?? 0} bytes, expected {BlobSize}).");
        }

        var dataKey = new byte[DataKeySize];
        using var aes = new AesGcm(masterKey, TagSize);
        try
        {
            // The key id is associated data, so a blob relabelled with another id fails even if both ids share a key.
            aes.Decrypt(blob.AsSpan(0, NonceSize), blob.AsSpan(NonceSize, DataKeySize), blob.AsSpan(NonceSize + DataKeySize), dataKey, Encoding.UTF8.GetBytes(wrapped.KeyId));
        }
        catch (CryptographicException ex)
        {
            throw new KeyRingException($"Data key wrapped under master key '{wrapped.KeyId}' failed authentication: the blob was tampered with or belongs to another key id.", ex);
        }

        return dataKey;
    }
}
