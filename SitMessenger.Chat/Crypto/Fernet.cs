using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace SitMessenger.Chat.Crypto;

/// <summary>
/// Fernet tokens exactly as https://github.com/fernet/spec defines them (version 0x80), so tokens interoperate with
/// Python's <c>cryptography.fernet</c> and the other spec implementations. Tokens are padded base64url ASCII.
/// </summary>
public static class Fernet
{
    public const int KeySize = 32;
    public const int IvSize = 16;

    /// <summary>How far in the future a token's timestamp may be, to tolerate clocks that disagree between hosts.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromSeconds(60);

    private const byte Version = 0x80;
    private const int SigningKeySize = 16;
    private const int TimestampOffset = 1;
    private const int IvOffset = TimestampOffset + sizeof(ulong);
    private const int CiphertextOffset = IvOffset + IvSize;
    private const int HmacSize = 32;
    private const int BlockSize = 16;
    private const int MinTokenSize = CiphertextOffset + BlockSize + HmacSize;

    private static readonly SearchValues<byte> UrlSafeAlphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"u8);

    /// <summary>Encrypts with a caller-chosen time and IV: for test vectors. Production code uses the overload without them.</summary>
    public static byte[] Encrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext, DateTimeOffset now, ReadOnlySpan<byte> iv)
    {
        EnsureKey(key);
        if (iv.Length != IvSize)
        {
            throw new ArgumentException($"A Fernet IV is {IvSize} bytes, not {iv.Length}.", nameof(iv));
        }

        var seconds = now.ToUnixTimeSeconds();
        ArgumentOutOfRangeException.ThrowIfNegative(seconds, nameof(now));

        using var aes = CreateAes(key);
        var ciphertextLength = aes.GetCiphertextLengthCbc(plaintext.Length);
        var hmacOffset = CiphertextOffset + ciphertextLength;
        var raw = new byte[hmacOffset + HmacSize];
        raw[0] = Version;
        BinaryPrimitives.WriteUInt64BigEndian(raw.AsSpan(TimestampOffset), (ulong)seconds);
        iv.CopyTo(raw.AsSpan(IvOffset));
        aes.EncryptCbc(plaintext, iv, raw.AsSpan(CiphertextOffset, ciphertextLength));
        HMACSHA256.HashData(key[..SigningKeySize], raw.AsSpan(0, hmacOffset), raw.AsSpan(hmacOffset));

        return EncodePadded(raw);
    }

    /// <summary>Encrypts at the current time with a random IV; returns the token as ASCII bytes.</summary>
    public static byte[] Encrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext, TimeProvider? timeProvider = null)
    {
        Span<byte> iv = stackalloc byte[IvSize];
        RandomNumberGenerator.Fill(iv);
        return Encrypt(key, plaintext, (timeProvider ?? TimeProvider.System).GetUtcNow(), iv);
    }

    /// <summary>Encrypts at the current time with a random IV; returns the token as a string.</summary>
    public static string EncryptToString(ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext, TimeProvider? timeProvider = null) =>
        Encoding.ASCII.GetString(Encrypt(key, plaintext, timeProvider));

    /// <summary>
    /// Verifies and decrypts a token. With a <paramref name="ttl"/>, a token older than it, or stamped more than
    /// <see cref="MaxClockSkew"/> ahead of <paramref name="now"/>, is rejected.
    /// </summary>
    /// <exception cref="InvalidFernetTokenException">The token is malformed, forged, tampered with, expired or from the future.</exception>
    public static byte[] Decrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> token, DateTimeOffset now, TimeSpan? ttl = null)
    {
        EnsureKey(key);
        if (ttl is { } maxAge)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(maxAge, TimeSpan.Zero, nameof(ttl));
        }

        var raw = DecodeToken(token);
        if (raw.Length < MinTokenSize || (raw.Length - MinTokenSize) % BlockSize != 0)
        {
            throw new InvalidFernetTokenException($"Token has an impossible length ({raw.Length} bytes).");
        }

        if (raw[0] != Version)
        {
            throw new InvalidFernetTokenException($"Token version 0x{raw[0]:x2} is not 0x{Version:x2}.");
        }

        var hmacOffset = raw.Length - HmacSize;
        Span<byte> expected = stackalloc byte[HmacSize];
        HMACSHA256.HashData(key[..SigningKeySize], raw.AsSpan(0, hmacOffset), expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, raw.AsSpan(hmacOffset)))
        {
            throw new InvalidFernetTokenException("Token HMAC does not match: wrong key or tampered token.");
        }

        // The timestamp is checked only once authenticated, and like the reference implementation only when the
        // caller asks for a TTL: a stored message must stay readable even if the host that wrote it had a fast clock.
        if (ttl is { } limit)
        {
            var issued = BinaryPrimitives.ReadUInt64BigEndian(raw.AsSpan(TimestampOffset));
            var age = (Int128)now.ToUnixTimeSeconds() - issued;
            if (-age > (long)MaxClockSkew.TotalSeconds)
            {
                throw new InvalidFernetTokenException("Token timestamp is too far in the future (clock skew).");
            }

            if (age > limit.Ticks / TimeSpan.TicksPerSecond)
            {
                throw new InvalidFernetTokenException("Token has expired (older than its TTL).");
            }
        }

        using var aes = CreateAes(key);
        try
        {
            return aes.DecryptCbc(raw.AsSpan(CiphertextOffset, hmacOffset - CiphertextOffset), raw.AsSpan(IvOffset, IvSize));
        }
        catch (CryptographicException ex)
        {
            throw new InvalidFernetTokenException("Token plaintext padding is invalid.", ex);
        }
    }

    /// <inheritdoc cref="Decrypt(ReadOnlySpan{byte}, ReadOnlySpan{byte}, DateTimeOffset, TimeSpan?)"/>
    public static byte[] Decrypt(ReadOnlySpan<byte> key, string token, DateTimeOffset now, TimeSpan? ttl = null)
    {
        ArgumentNullException.ThrowIfNull(token);
        return Decrypt(key, Encoding.ASCII.GetBytes(token), now, ttl);
    }

    /// <summary>Verifies and decrypts at the current time.</summary>
    /// <inheritdoc cref="Decrypt(ReadOnlySpan{byte}, ReadOnlySpan{byte}, DateTimeOffset, TimeSpan?)"/>
    public static byte[] Decrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> token, TimeSpan? ttl = null, TimeProvider? timeProvider = null) =>
        Decrypt(key, token, (timeProvider ?? TimeProvider.System).GetUtcNow(), ttl);

    /// <summary>Parses a key in the spec's format: base64url (padding optional) of 32 bytes.</summary>
    /// <exception cref="FormatException">Not base64url, or not 32 bytes.</exception>
    public static byte[] ParseKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(key.AsSpan().TrimEnd('='));
        }
        catch (FormatException ex)
        {
            throw new FormatException("Fernet key is not valid base64url.", ex);
        }

        if (bytes.Length != KeySize)
        {
            CryptographicOperations.ZeroMemory(bytes);
            throw new FormatException($"Fernet key must decode to {KeySize} bytes, not {bytes.Length}.");
        }

        return bytes;
    }

    /// <summary>A new random key in the spec's string format.</summary>
    public static string GenerateKey()
    {
        Span<byte> key = stackalloc byte[KeySize];
        RandomNumberGenerator.Fill(key);
        var text = EncodePadded(key);
        CryptographicOperations.ZeroMemory(key);
        return Encoding.ASCII.GetString(text);
    }

    private static void EnsureKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeySize)
        {
            throw new ArgumentException($"A Fernet key is {KeySize} bytes, not {key.Length}.", nameof(key));
        }
    }

    private static Aes CreateAes(ReadOnlySpan<byte> key)
    {
        var aes = Aes.Create();
        aes.SetKey(key[SigningKeySize..]);
        return aes;
    }

    // The spec's tokens and keys keep base64 padding; Base64Url drops it.
    private static byte[] EncodePadded(ReadOnlySpan<byte> data)
    {
        var encoded = new byte[Base64.GetMaxEncodedToUtf8Length(data.Length)];
        var written = Base64Url.EncodeToUtf8(data, encoded);
        encoded.AsSpan(written).Fill((byte)'=');
        return encoded;
    }

    /// <summary>
    /// Accepts only the canonical padded base64url spelling. Decoders are lenient (whitespace, missing padding, the
    /// '+' and '/' alphabet); the spec's invalid vectors require rejecting all of that.
    /// </summary>
    private static byte[] DecodeToken(ReadOnlySpan<byte> token)
    {
        var body = token.TrimEnd((byte)'=');
        if (token.Length == 0 || token.Length % 4 != 0 || token.Length - body.Length > 2 || body.ContainsAnyExcept(UrlSafeAlphabet))
        {
            throw new InvalidFernetTokenException("Token is not padded base64url.");
        }

        try
        {
            return Base64Url.DecodeFromUtf8(body);
        }
        catch (FormatException ex)
        {
            throw new InvalidFernetTokenException("Token is not padded base64url.", ex);
        }
    }
}
