using System.Security.Cryptography;
using SitMessenger.Chat.Crypto;

namespace SitMessenger.UnitTests.Crypto;

public sealed class ChatKeyRingTests
{
    private static readonly string K1 = ChatKeyRing.GenerateMasterKey();
    private static readonly string K2 = ChatKeyRing.GenerateMasterKey();

    [Fact]
    public void Wrapped_data_key_unwraps_to_the_original()
    {
        var ring = Ring("k1", ("k1", K1));
        var dataKey = ring.NewDataKey();

        var wrapped = ring.Wrap(dataKey);

        Assert.Equal("k1", wrapped.KeyId);
        Assert.Equal(12 + 32 + 16, wrapped.Blob.Length);
        Assert.Equal(dataKey, ring.Unwrap(wrapped));
    }

    [Fact]
    public void Unwrapped_key_works_as_a_fernet_key()
    {
        var ring = Ring("k1", ("k1", K1));
        var wrapped = ring.Wrap(ring.NewDataKey());

        var token = Fernet.Encrypt(ring.Unwrap(wrapped), "hi"u8);

        Assert.Equal("hi"u8.ToArray(), Fernet.Decrypt(ring.Unwrap(wrapped), token));
    }

    [Fact]
    public void Wrapping_twice_uses_fresh_nonces()
    {
        var ring = Ring("k1", ("k1", K1));
        var dataKey = ring.NewDataKey();

        Assert.NotEqual(ring.Wrap(dataKey).Blob, ring.Wrap(dataKey).Blob);
    }

    [Fact]
    public void Old_master_key_still_unwraps_after_rotation()
    {
        var before = Ring("k1", ("k1", K1));
        var dataKey = before.NewDataKey();
        var wrappedBefore = before.Wrap(dataKey);

        var after = Ring("k2", ("k1", K1), ("k2", K2));
        var wrappedAfter = after.Wrap(dataKey);

        Assert.Equal("k2", wrappedAfter.KeyId);
        Assert.Equal(dataKey, after.Unwrap(wrappedBefore));
        Assert.Equal(dataKey, after.Unwrap(wrappedAfter));
    }

    [Fact]
    public void Unknown_key_id_fails_naming_the_id()
    {
        var wrapped = Ring("k1", ("k1", K1)).Wrap(new byte[32]);
        var other = Ring("k2", ("k2", K2));

        var ex = Assert.Throws<KeyRingException>(() => other.Unwrap(wrapped));

        Assert.Contains("'k1'", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(K2, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unwrapping_with_swapped_key_id_fails()
    {
        var ring = Ring("k2", ("k1", K1), ("k2", K2));
        var wrapped = ring.Wrap(ring.NewDataKey());

        var ex = Assert.Throws<KeyRingException>(() => ring.Unwrap(wrapped with { KeyId = "k1" }));

        Assert.Contains("'k1'", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<CryptographicException>(ex);
    }

    [Fact]
    public void Swapped_key_id_fails_even_when_both_ids_hold_the_same_key()
    {
        // Only the associated data tells these apart, so this proves the key id is bound into the tag.
        var ring = Ring("k2", ("k1", K1), ("k2", K1));
        var wrapped = ring.Wrap(ring.NewDataKey());

        Assert.Throws<KeyRingException>(() => ring.Unwrap(wrapped with { KeyId = "k1" }));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(43)]
    [InlineData(44)]
    [InlineData(59)]
    public void Tampered_blob_fails(int index)
    {
        var ring = Ring("k1", ("k1", K1));
        var wrapped = ring.Wrap(ring.NewDataKey());
        var blob = wrapped.Blob.ToArray();
        blob[index] ^= 0x80;

        var ex = Assert.Throws<KeyRingException>(() => ring.Unwrap(wrapped with { Blob = blob }));

        Assert.Contains("'k1'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_blob_fails()
    {
        var ring = Ring("k1", ("k1", K1));
        var wrapped = ring.Wrap(ring.NewDataKey());

        Assert.Throws<KeyRingException>(() => ring.Unwrap(wrapped with { Blob = wrapped.Blob[..^1] }));
    }

    [Fact]
    public void Data_keys_must_be_32_bytes()
    {
        var ring = Ring("k1", ("k1", K1));

        Assert.Throws<ArgumentException>(() => ring.Wrap(new byte[16]));
    }

    [Fact]
    public void Generated_master_keys_are_32_random_bytes_in_base64()
    {
        Assert.Equal(32, Convert.FromBase64String(K1).Length);
        Assert.NotEqual(K1, K2);
    }

    [Fact]
    public void Valid_options_have_no_errors()
    {
        Assert.Empty(Options("k1", ("k1", K1), ("k2", K2)).Validate());
    }

    [Fact]
    public void Active_key_missing_from_keys_is_reported()
    {
        var options = Options("k9", ("k1", K1));

        Assert.Contains(options.Validate(), e => e.Contains("'k9'", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => ChatKeyRing.FromOptions(options));
    }

    [Fact]
    public void Unset_active_key_and_empty_keys_are_reported()
    {
        var errors = new ChatKeyRingOptions().Validate();

        Assert.Contains(errors, e => e.Contains("ActiveKeyId", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Keys is empty", StringComparison.Ordinal));
    }

    [Fact]
    public void Wrong_length_key_is_reported_without_its_value()
    {
        var shortKey = Convert.ToBase64String(new byte[16]);
        var options = Options("k1", ("k1", shortKey));

        var ex = Assert.Throws<ArgumentException>(() => ChatKeyRing.FromOptions(options));

        Assert.Contains("'k1' is 16 bytes", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(shortKey, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_base64_key_is_reported_without_its_value()
    {
        var options = Options("k1", ("k1", K1), ("k2", "not*base64"));

        var ex = Assert.Throws<ArgumentException>(() => ChatKeyRing.FromOptions(options));

        Assert.Contains("'k2' is not valid base64", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not*base64", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ring_from_options_wraps_under_the_active_key()
    {
        var ring = ChatKeyRing.FromOptions(Options("k2", ("k1", K1), ("k2", K2)));

        Assert.Equal("k2", ring.Wrap(ring.NewDataKey()).KeyId);
        Assert.Equal(["k1", "k2"], ring.KeyIds.Order());
    }

    private static ChatKeyRingOptions Options(string activeKeyId, params (string Id, string Key)[] keys)
    {
        var options = new ChatKeyRingOptions { ActiveKeyId = activeKeyId };
        foreach (var (id, key) in keys)
        {
            options.Keys[id] = key;
        }

        return options;
    }

    private static ChatKeyRing Ring(string activeKeyId, params (string Id, string Key)[] keys) =>
        ChatKeyRing.FromOptions(Options(activeKeyId, keys));
}
