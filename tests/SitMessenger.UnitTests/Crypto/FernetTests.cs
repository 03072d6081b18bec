using System.Text;
using SitMessenger.Chat.Crypto;

namespace SitMessenger.UnitTests.Crypto;

public sealed class FernetTests
{
    private static readonly DateTimeOffset Now = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly byte[] Key = Fernet.ParseKey("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=");
    private static readonly byte[] Plaintext = "a message long enough to fill two AES blocks"u8.ToArray();

    public static TheoryData<string, DateTimeOffset, byte[], string, string> GenerateVectors => FernetSpecVectors.Generate();

    public static TheoryData<string, DateTimeOffset, int, string, string> VerifyVectors => FernetSpecVectors.Verify();

    public static TheoryData<string, string, DateTimeOffset, int, string> InvalidVectors => FernetSpecVectors.Invalid();

    // Field offsets in the decoded token: version | timestamp | iv | ciphertext | hmac.
    public static TheoryData<string, int> TokenRegions => new()
    {
        { "version", 0 },
        { "timestamp", 1 },
        { "timestamp", 8 },
        { "iv", 9 },
        { "iv", 24 },
        { "ciphertext", 25 },
        { "ciphertext", 25 + 31 },
        { "hmac", -32 },
        { "hmac", -1 },
    };

    [Theory]
    [MemberData(nameof(GenerateVectors))]
    public void Fernet_generate_vectors_produce_the_spec_tokens(string token, DateTimeOffset now, byte[] iv, string src, string secret)
    {
        var generated = Fernet.Encrypt(Fernet.ParseKey(secret), Encoding.UTF8.GetBytes(src), now, iv);

        Assert.Equal(token, Encoding.ASCII.GetString(generated));
    }

    [Theory]
    [MemberData(nameof(VerifyVectors))]
    public void Fernet_verify_vectors_decrypt_to_the_spec_source(string token, DateTimeOffset now, int ttlSec, string src, string secret)
    {
        var plaintext = Fernet.Decrypt(Fernet.ParseKey(secret), token, now, TimeSpan.FromSeconds(ttlSec));

        Assert.Equal(src, Encoding.UTF8.GetString(plaintext));
    }

    [Theory]
    [MemberData(nameof(InvalidVectors))]
    public void Fernet_invalid_vectors_are_rejected(string desc, string token, DateTimeOffset now, int ttlSec, string secret)
    {
        var ex = Assert.Throws<InvalidFernetTokenException>(() => Fernet.Decrypt(Fernet.ParseKey(secret), token, now, TimeSpan.FromSeconds(ttlSec)));

        // Each vector must fail for the reason it was written for, not by accident at an earlier check.
        var reason = desc switch
        {
            "incorrect mac" => "HMAC",
            "too short" or "payload size not multiple of block size" => "length",
            "payload padding error" or "incorrect IV (causes padding error)" => "padding",
            "far-future TS (unacceptable clock skew)" => "future",
            "expired TTL" => "expired",
            _ when desc.Contains("b64", StringComparison.Ordinal) || desc.Contains("base64", StringComparison.Ordinal) => "base64url",
            _ => "",
        };
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Round_trip_returns_the_plaintext()
    {
        var token = Fernet.Encrypt(Key, Plaintext);

        Assert.Equal(Plaintext, Fernet.Decrypt(Key, token, TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void String_and_byte_tokens_are_the_same_format()
    {
        var token = Fernet.EncryptToString(Key, Plaintext);

        Assert.Equal(Plaintext, Fernet.Decrypt(Key, token, DateTimeOffset.UtcNow));
        Assert.Equal(Plaintext, Fernet.Decrypt(Key, Encoding.ASCII.GetBytes(token)));
    }

    [Fact]
    public void Empty_plaintext_round_trips_as_one_padding_block()
    {
        var token = Fernet.Encrypt(Key, [], Now, new byte[Fernet.IvSize]);

        Assert.Equal(Base64UrlLength(1 + 8 + 16 + 16 + 32), token.Length);
        Assert.Empty(Fernet.Decrypt(Key, token, Now));
    }

    [Fact]
    public void Tokens_use_fresh_ivs()
    {
        Assert.NotEqual(Fernet.EncryptToString(Key, Plaintext), Fernet.EncryptToString(Key, Plaintext));
    }

    [Theory]
    [MemberData(nameof(TokenRegions))]
    public void Tampered_token_is_rejected(string region, int offset)
    {
        var raw = Decode(Fernet.Encrypt(Key, Plaintext, Now, new byte[Fernet.IvSize]));
        raw[offset < 0 ? raw.Length + offset : offset] ^= 0x01;

        var ex = Assert.Throws<InvalidFernetTokenException>(() => Fernet.Decrypt(Key, Encode(raw), Now, TimeSpan.FromMinutes(1)));

        Assert.Contains(region == "version" ? "version" : "HMAC", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_token_is_rejected()
    {
        var raw = Decode(Fernet.Encrypt(Key, Plaintext));

        Assert.Throws<InvalidFernetTokenException>(() => Fernet.Decrypt(Key, Encode(raw[..^16]), Now));
    }

    [Fact]
    public void Wrong_key_is_rejected()
    {
        var token = Fernet.Encrypt(Key, Plaintext);
        var otherKey = Fernet.ParseKey(Fernet.GenerateKey());

        var ex = Assert.Throws<InvalidFernetTokenException>(() => Fernet.Decrypt(otherKey, token));

        Assert.Contains("HMAC", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Token_is_valid_up_to_its_ttl_and_expired_after()
    {
        var token = Fernet.Encrypt(Key, Plaintext, Now, new byte[Fernet.IvSize]);
        var ttl = TimeSpan.FromMinutes(5);

        Assert.Equal(Plaintext, Fernet.Decrypt(Key, token, Now + ttl, ttl));
        var ex = Assert.Throws<InvalidFernetTokenException>(() => Fernet.Decrypt(Key, token, Now + ttl + TimeSpan.FromSeconds(1), ttl));
        Assert.Contains("expired", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Token_from_the_future_is_accepted_within_clock_skew_only()
    {
        var token = Fernet.Encrypt(Key, Plaintext, Now + Fernet.MaxClockSkew, new byte[Fernet.IvSize]);
        var tooFar = Fernet.Encrypt(Key, Plaintext, Now + Fernet.MaxClockSkew + TimeSpan.FromSeconds(1), new byte[Fernet.IvSize]);

        Assert.Equal(Plaintext, Fernet.Decrypt(Key, token, Now, TimeSpan.FromMinutes(1)));
        var ex = Assert.Throws<InvalidFernetTokenException>(() => Fernet.Decrypt(Key, tooFar, Now, TimeSpan.FromMinutes(1)));
        Assert.Contains("future", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_ttl_age_is_not_checked()
    {
        var token = Fernet.Encrypt(Key, Plaintext, Now, new byte[Fernet.IvSize]);

        Assert.Equal(Plaintext, Fernet.Decrypt(Key, token, Now.AddYears(10)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not base64 at all!")]
    [InlineData("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4")]
    [InlineData("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4cw==")]
    public void Malformed_keys_are_refused(string key)
    {
        Assert.Throws<FormatException>(() => Fernet.ParseKey(key));
    }

    [Fact]
    public void Generated_keys_parse_as_32_bytes_in_spec_format()
    {
        var key = Fernet.GenerateKey();

        Assert.Equal(44, key.Length);
        Assert.EndsWith("=", key, StringComparison.Ordinal);
        Assert.Equal(Fernet.KeySize, Fernet.ParseKey(key).Length);
    }

    [Fact]
    public void Wrong_key_or_iv_sizes_are_caller_errors()
    {
        Assert.Throws<ArgumentException>(() => Fernet.Encrypt(new byte[16], Plaintext));
        Assert.Throws<ArgumentException>(() => Fernet.Encrypt(Key, Plaintext, Now, new byte[12]));
    }

    private static int Base64UrlLength(int bytes) => (bytes + 2) / 3 * 4;

    private static byte[] Decode(byte[] token) => Convert.FromBase64String(Encoding.ASCII.GetString(token).Replace('-', '+').Replace('_', '/'));

    private static string Encode(byte[] raw) => Convert.ToBase64String(raw).Replace('+', '-').Replace('/', '_');
}
