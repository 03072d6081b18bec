using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using SitMessenger.Chat.Crypto;
using SitMessenger.Chat.Messages;
using SitMessenger.Chat.Storage;

namespace SitMessenger.UnitTests.Storage;

public sealed class SegmentFormatTests
{
    private static readonly Guid ChatId = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");

    // Offsets of the layout documented on SegmentFormat; tests patch fields and re-seal to reach the parser's checks.
    private const int ChatIdOffset = 8;
    private const int FirstSeqOffset = 24;
    private const int LastSeqOffset = 32;
    private const int CountOffset = 40;
    private const int KeyIdLengthOffset = 44;
    private const int KeyIdOffset = 46;

    [Fact]
    public void Round_trip_returns_every_message_in_order()
    {
        var messages = Messages(first: 41, count: 5);

        var file = SegmentFormat.Write(ChatId, "k2", messages);
        var contents = SegmentFormat.Read(file, ChatId, SegmentFormat.Hash(file));

        Assert.Equal(ChatId, contents.ChatId);
        Assert.Equal("k2", contents.KeyId);
        Assert.Equal(41, contents.FirstSeq);
        Assert.Equal(45, contents.LastSeq);
        Assert.Equal(messages.Select(m => m.Seq), contents.Messages.Select(m => m.Seq));
        Assert.Equal(messages.Select(m => m.Ciphertext), contents.Messages.Select(m => m.Ciphertext));
    }

    [Fact]
    public void Round_trip_works_without_an_expected_hash_and_with_a_non_ascii_key_id()
    {
        var messages = Messages(first: 1, count: 1);

        var file = SegmentFormat.Write(ChatId, "clé-1", messages);
        var contents = SegmentFormat.Read(file, ChatId, expectedSha256: null);

        Assert.Equal("clé-1", contents.KeyId);
        Assert.Single(contents.Messages);
    }

    [Fact]
    public void Real_fernet_tokens_survive_a_round_trip_and_still_decrypt()
    {
        var key = RandomNumberGenerator.GetBytes(Fernet.KeySize);
        var messages = Enumerable.Range(1, 3)
            .Select(i => new EncryptedMessage(i, Fernet.Encrypt(key, Encoding.UTF8.GetBytes($"message {i}"))))
            .ToList();

        var file = SegmentFormat.Write(ChatId, "k1", messages);
        var contents = SegmentFormat.Read(file, ChatId, SegmentFormat.Hash(file));

        Assert.Equal("message 2"u8.ToArray(), Fernet.Decrypt(key, contents.Messages[1].Ciphertext, DateTimeOffset.UtcNow));
    }

    [Fact]
    public void Layout_is_big_endian_with_magic_and_rfc_order_chat_id()
    {
        var file = SegmentFormat.Write(ChatId, "k1", Messages(first: 7, count: 2));

        Assert.Equal("SITSEG01"u8.ToArray(), file[..8]);
        Assert.Equal(Convert.FromHexString("0f8fad5bd9cb469fa16570867728950e"), file[ChatIdOffset..(ChatIdOffset + 16)]);
        Assert.Equal(7, BinaryPrimitives.ReadInt64BigEndian(file.AsSpan(FirstSeqOffset)));
        Assert.Equal(8, BinaryPrimitives.ReadInt64BigEndian(file.AsSpan(LastSeqOffset)));
        Assert.Equal(2, BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(CountOffset)));
        Assert.Equal(2, BinaryPrimitives.ReadUInt16BigEndian(file.AsSpan(KeyIdLengthOffset)));
        Assert.Equal(SHA256.HashData(file.AsSpan(0, file.Length - 32)), file[^32..]);
        Assert.Equal(SHA256.HashData(file), SegmentFormat.Hash(file));
    }

    [Fact]
    public void Every_single_byte_flip_is_detected()
    {
        var file = SegmentFormat.Write(ChatId, "k1", Messages(first: 1, count: 3));
        var expected = SegmentFormat.Hash(file);

        foreach (var mask in new byte[] { 0x01, 0x80, 0xFF })
        {
            for (var i = 0; i < file.Length; i++)
            {
                var damaged = file.ToArray();
                damaged[i] ^= mask;

                Assert.Throws<CorruptSegmentException>(() => SegmentFormat.Read(damaged, ChatId, expected));
                Assert.Throws<CorruptSegmentException>(() => SegmentFormat.Read(damaged, ChatId, expectedSha256: null));
            }
        }
    }

    [Fact]
    public void Every_truncation_is_detected()
    {
        var file = SegmentFormat.Write(ChatId, "k1", Messages(first: 1, count: 3));

        for (var length = 0; length < file.Length; length++)
        {
            var truncated = file[..length];
            Assert.Throws<CorruptSegmentException>(() => SegmentFormat.Read(truncated, ChatId, expectedSha256: null));
        }
    }

    [Fact]
    public void Appended_bytes_are_detected()
    {
        var file = SegmentFormat.Write(ChatId, "k1", Messages(first: 1, count: 2));

        var extended = file.Concat(new byte[] { 0 }).ToArray();

        Assert.Throws<CorruptSegmentException>(() => SegmentFormat.Read(extended, ChatId, expectedSha256: null));
    }

    [Fact]
    public void Flipped_byte_reports_a_checksum_mismatch_without_ciphertext()
    {
        var messages = Messages(first: 1, count: 2);
        var file = SegmentFormat.Write(ChatId, "k1", messages);
        file[^40] ^= 1;

        var ex = Assert.Throws<CorruptSegmentException>(() => SegmentFormat.Read(file, ChatId, expectedSha256: null));

        Assert.Contains("checksum mismatch", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Encoding.ASCII.GetString(messages[1].Ciphertext), ex.Message, StringComparison.Ordinal);
        Assert.Null(ex.Location);
    }

    [Fact]
    public void Location_given_to_read_is_carried_by_the_exception()
    {
        var file = SegmentFormat.Write(ChatId, "k1", Messages(first: 1, count: 2));
        file[^1] ^= 1;

        var ex = Assert.Throws<CorruptSegmentException>(() => SegmentFormat.Read(file, ChatId, null, "abc/1.seg"));

        Assert.Equal("abc/1.seg", ex.Location);
        Assert.Contains("abc/1.seg", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Corrupt_record_length_is_reported_without_a_huge_allocation()
    {
        var file = SegmentFormat.Write(ChatId, "k1", Messages(first: 1, count: 3));
        var firstRecord = KeyIdOffset + 2;
        BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(firstRecord + 8), int.MaxValue);
        Reseal(file);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<CorruptSegmentException>(() => SegmentFormat.Read(file, ChatId, expectedSha256: null));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains($"record 0 (seq 1) length {int.MaxValue} exceeds file", ex.Message, StringComparison.Ordinal);
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    public void Non_positive_record_length_is_rejected(int length)
    {
        var file = SegmentFormat.Write(ChatId, "k1", Messages(first: 1, count: 1));
        BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(KeyIdOffset + 2 + 8), length);
        Reseal(file);

        var ex = Assert.Throws<CorruptSegmentException>(() => SegmentFormat.Read(file, ChatId, expectedSha256: null));

        Assert.Contains("is not positive", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Corrupt_record_count_is_reported_without_a_huge_allocation()
    {
        var file = SegmentFormat.Write(ChatId, "k1", Messages(first: 0, count: 3));
        BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(CountOffset), int.MaxValue);
        BinaryPrimitives.WriteInt64BigEndian(file.AsSpan(LastSeqOffset), int.MaxValue - 1L);
        Reseal(file);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<CorruptSegmentException>(() => SegmentFormat.Read(file, ChatId, expectedSha256: null));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains($"record count {int.MaxValue} exceeds file", ex.Message, StringComparison.Ordinal);
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Count_that_disagrees_with_the_seq_range_is_rejected()
    {
        var file = SegmentFormat.Write(ChatId, "k1", Messages(first: 1, count: 3));
        BinaryPrimitives.WriteInt64BigEndian(file.AsSpan(LastSeqOffset), 4);
        Reseal(file);

        var ex = Assert.Throws<CorruptSegmentException>(() => SegmentFormat.Read(file, ChatId, expectedSha256: null));

        Assert.Contains("record count 3 does not match seq range 1..4", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Non_consecutive_seq_in_a_sealed_file_is_rejected()
    {
        var file = SegmentFormat.Write(ChatId, "k1", Messages(first: 1, count: 3));
        var secondRecord = KeyIdOffset + 2 + 8 + 4 + Token(1).Length;
        BinaryPrimitives.WriteInt64BigEndian(file.AsSpan(secondRecord), 3);
        Reseal(file);

        var ex = Assert.Throws<CorruptSegmentException>(() => SegmentFormat.Read(file, ChatId, expectedSha256: null));

        Assert.Contains("record 1 has seq 3, expected 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_magic_in_a_sealed_file_is_rejected()
    {
        var file = SegmentFormat.Write(ChatId, "k1", Messages(first: 1, count: 1));
        file[7] = (byte)'2';
        Reseal(file);

        var ex = Assert.Throws<CorruptSegmentException>(() => SegmentFormat.Read(file, ChatId, expectedSha256: null));

        Assert.Contains("magic", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf8_key_id_in_a_sealed_file_is_rejected()
    {
        var file = SegmentFormat.Write(ChatId, "k1", Messages(first: 1, count: 1));
        file[KeyIdOffset] = 0xFF;
        Reseal(file);

        var ex = Assert.Throws<CorruptSegmentException>(() => SegmentFormat.Read(file, ChatId, expectedSha256: null));

        Assert.Contains("UTF-8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_chat_id_is_rejected()
    {
        var file = SegmentFormat.Write(ChatId, "k1", Messages(first: 1, count: 2));

        var ex = Assert.Throws<CorruptSegmentException>(() => SegmentFormat.Read(file, Guid.NewGuid(), SegmentFormat.Hash(file)));

        Assert.Contains("chat id", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Expected_hash_mismatch_is_rejected()
    {
        var file = SegmentFormat.Write(ChatId, "k1", Messages(first: 1, count: 2));
        var other = SegmentFormat.Write(ChatId, "k1", Messages(first: 1, count: 3));

        var ex = Assert.Throws<CorruptSegmentException>(() => SegmentFormat.Read(file, ChatId, SegmentFormat.Hash(other)));

        Assert.Contains("SHA-256", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Expected_hash_of_the_wrong_size_is_a_caller_error()
    {
        var file = SegmentFormat.Write(ChatId, "k1", Messages(first: 1, count: 1));

        Assert.Throws<ArgumentException>(() => SegmentFormat.Read(file, ChatId, new byte[16]));
    }

    [Fact]
    public void Write_rejects_an_empty_list()
    {
        Assert.Throws<ArgumentException>(() => SegmentFormat.Write(ChatId, "k1", []));
    }

    [Theory]
    [InlineData(new long[] { 1, 3 })]
    [InlineData(new long[] { 1, 2, 2 })]
    [InlineData(new long[] { 3, 2, 1 })]
    [InlineData(new long[] { -1, 0 })]
    [InlineData(new long[] { long.MaxValue, long.MinValue })]
    public void Write_rejects_seqs_that_are_not_consecutive_and_non_negative(long[] seqs)
    {
        var messages = seqs.Select(seq => new EncryptedMessage(seq, Token(seq))).ToList();

        Assert.Throws<ArgumentException>(() => SegmentFormat.Write(ChatId, "k1", messages));
    }

    [Fact]
    public void Write_rejects_an_empty_ciphertext_and_an_empty_key_id()
    {
        Assert.Throws<ArgumentException>(() => SegmentFormat.Write(ChatId, "k1", [new EncryptedMessage(1, [])]));
        Assert.Throws<ArgumentException>(() => SegmentFormat.Write(ChatId, "", Messages(first: 1, count: 1)));
    }

    [Fact]
    public void Write_rejects_a_key_id_longer_than_its_length_field()
    {
        Assert.Throws<ArgumentException>(() => SegmentFormat.Write(ChatId, new string('k', ushort.MaxValue + 1), Messages(1, 1)));
    }

    [Fact]
    public void Write_rejects_an_oversized_segment()
    {
        var messages = Messages(first: 1, count: 10);
        var size = SegmentFormat.Write(ChatId, "k1", messages).Length;

        Assert.Equal(size, SegmentFormat.Write(ChatId, "k1", messages, maxFileSize: size).Length);
        Assert.Throws<ArgumentException>(() => SegmentFormat.Write(ChatId, "k1", messages, maxFileSize: size - 1));
    }

    [Fact]
    public void Seqs_up_to_long_max_value_round_trip()
    {
        var messages = Messages(first: long.MaxValue - 1, count: 2);

        var file = SegmentFormat.Write(ChatId, "k1", messages);

        Assert.Equal(long.MaxValue, SegmentFormat.Read(file, ChatId, null).LastSeq);
    }

    internal static List<EncryptedMessage> Messages(long first, int count) =>
        Enumerable.Range(0, count).Select(i => new EncryptedMessage(first + i, Token(first + i))).ToList();

    // Fernet-like ASCII of varying length, distinct per seq, so a swapped or shifted record shows.
    private static byte[] Token(long seq) => Encoding.ASCII.GetBytes($"gAAAAA-token-{seq}-" + new string('x', (int)(Math.Abs(seq % 7) + 1)));

    /// <summary>Recomputes the trailing hash, as a buggy writer would, so only the structural checks can catch the edit.</summary>
    private static void Reseal(byte[] file) => SHA256.HashData(file.AsSpan(0, file.Length - 32), file.AsSpan(file.Length - 32));
}
