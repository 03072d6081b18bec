using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using SitMessenger.Chat.Messages;

namespace SitMessenger.Chat.Storage;

/// <summary>
/// The binary layout of an immutable segment file: a run of a chat's consecutive messages, still encrypted.
/// <code>
/// offset  size      field
/// 0       8         magic "SITSEG01" (ASCII); the digits version the layout
/// 8       16        chat id, Guid in big-endian (RFC 4122) byte order
/// 24      8         first seq, int64 big-endian
/// 32      8         last seq, int64 big-endian
/// 40      4         record count, int32 big-endian; equals last - first + 1
/// 44      2         key id length n, uint16 big-endian
/// 46      n         key id, UTF-8: the master key that wrapped the chat's data key, so rotation can find old segments
/// ...     count ×   record: seq (int64 BE), length L (int32 BE), L bytes of ciphertext (a Fernet token, ASCII)
/// end-32  32        SHA-256 of every byte before it
/// </code>
/// All integers are big-endian so the file reads the same on every host. Seqs are non-negative and consecutive
/// from first to last; both the writer and the reader enforce it, so a segment can never silently drop or repeat
/// a message. The trailing hash catches damage without the database; the SHA-256 of the whole file (see
/// <see cref="Hash"/>) is what the database records, which also catches a row that points at the wrong file.
/// </summary>
public static class SegmentFormat
{
    public const int HashSize = 32;

    /// <summary>The largest file <see cref="Write(Guid, string, IReadOnlyList{EncryptedMessage})"/> produces: one array.</summary>
    public static int MaxFileSize => Array.MaxLength;

    private const int MagicSize = 8;
    private const int ChatIdSize = 16;
    private const int ChatIdOffset = MagicSize;
    private const int FirstSeqOffset = ChatIdOffset + ChatIdSize;
    private const int LastSeqOffset = FirstSeqOffset + sizeof(long);
    private const int CountOffset = LastSeqOffset + sizeof(long);
    private const int KeyIdLengthOffset = CountOffset + sizeof(int);
    private const int KeyIdOffset = KeyIdLengthOffset + sizeof(ushort);
    private const int RecordHeaderSize = sizeof(long) + sizeof(int);

    // One key id byte and one record of one byte: anything shorter cannot be a segment.
    private const int MinFileSize = KeyIdOffset + 1 + RecordHeaderSize + 1 + HashSize;

    private static ReadOnlySpan<byte> Magic => "SITSEG01"u8;

    // Strict so that a flipped bit in the key id is reported, not turned into U+FFFD and carried on.
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>SHA-256 of the whole file: the value the database stores next to the segment's location.</summary>
    public static byte[] Hash(ReadOnlySpan<byte> file) => SHA256.HashData(file);

    /// <summary>Serializes <paramref name="messages"/> into the bytes of one segment file.</summary>
    /// <param name="chatId">The chat the messages belong to.</param>
    /// <param name="keyId">The master key id the chat's data key is wrapped with.</param>
    /// <param name="messages">At least one message, seqs non-negative and consecutive, each with a non-empty ciphertext.</param>
    /// <exception cref="ArgumentException">Empty list, non-consecutive or negative seqs, empty ciphertext, key id
    /// too long, or a file larger than <see cref="MaxFileSize"/>.</exception>
    public static byte[] Write(Guid chatId, string keyId, IReadOnlyList<EncryptedMessage> messages) =>
        Write(chatId, keyId, messages, MaxFileSize);

    /// <summary>As the public overload, with a smaller size limit so tests can reach it.</summary>
    internal static byte[] Write(Guid chatId, string keyId, IReadOnlyList<EncryptedMessage> messages, long maxFileSize)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0)
        {
            throw new ArgumentException("A segment needs at least one message.", nameof(messages));
        }

        var keyIdLength = StrictUtf8.GetByteCount(keyId);
        if (keyIdLength > ushort.MaxValue)
        {
            throw new ArgumentException($"Key id is {keyIdLength} UTF-8 bytes; at most {ushort.MaxValue} fit.", nameof(keyId));
        }

        long size = KeyIdOffset + keyIdLength + HashSize;
        EncryptedMessage? previous = null;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i] ?? throw new ArgumentException($"Message {i} is null.", nameof(messages));
            if (message.Seq < 0)
            {
                throw new ArgumentException($"Message {i} has negative seq {message.Seq}.", nameof(messages));
            }

            // Written as "previous + 1 != seq" this would overflow at long.MaxValue and accept a wrapped seq.
            if (previous is not null && (previous.Seq == long.MaxValue || message.Seq != previous.Seq + 1))
            {
                throw new ArgumentException(
                    $"Seqs must be consecutive: message {i} has seq {message.Seq} after {previous.Seq}.", nameof(messages));
            }

            if (message.Ciphertext is not { Length: > 0 })
            {
                throw new ArgumentException($"Message seq {message.Seq} has no ciphertext.", nameof(messages));
            }

            size += RecordHeaderSize + (long)message.Ciphertext.Length;
            if (size > maxFileSize)
            {
                throw new ArgumentException(
                    $"{messages.Count} messages do not fit in one segment of at most {maxFileSize} bytes; split them.",
                    nameof(messages));
            }

            previous = message;
        }

        var file = new byte[size];
        var span = file.AsSpan();
        Magic.CopyTo(span);
        chatId.TryWriteBytes(span.Slice(ChatIdOffset, ChatIdSize), bigEndian: true, out _);
        BinaryPrimitives.WriteInt64BigEndian(span[FirstSeqOffset..], messages[0].Seq);
        BinaryPrimitives.WriteInt64BigEndian(span[LastSeqOffset..], messages[^1].Seq);
        BinaryPrimitives.WriteInt32BigEndian(span[CountOffset..], messages.Count);
        BinaryPrimitives.WriteUInt16BigEndian(span[KeyIdLengthOffset..], (ushort)keyIdLength);
        StrictUtf8.GetBytes(keyId, span.Slice(KeyIdOffset, keyIdLength));

        var position = KeyIdOffset + keyIdLength;
        foreach (var message in messages)
        {
            BinaryPrimitives.WriteInt64BigEndian(span[position..], message.Seq);
            BinaryPrimitives.WriteInt32BigEndian(span[(position + sizeof(long))..], message.Ciphertext.Length);
            position += RecordHeaderSize;
            message.Ciphertext.CopyTo(span[position..]);
            position += message.Ciphertext.Length;
        }

        SHA256.HashData(span[..position], span[position..]);
        return file;
    }

    /// <summary>Verifies and parses a segment file.</summary>
    /// <param name="file">The whole file.</param>
    /// <param name="expectedChatId">The chat the caller believes the file belongs to.</param>
    /// <param name="expectedSha256">The SHA-256 of the whole file recorded in the database, or null to rely on the
    /// file's own trailing hash only.</param>
    /// <exception cref="CorruptSegmentException">Any check failed; no data is returned from a file that fails one.</exception>
    public static SegmentContents Read(ReadOnlySpan<byte> file, Guid expectedChatId, byte[]? expectedSha256) =>
        Read(file, expectedChatId, expectedSha256, location: null);

    /// <summary>As the overload without <paramref name="location"/>, naming the file in any exception it throws.</summary>
    public static SegmentContents Read(ReadOnlySpan<byte> file, Guid expectedChatId, byte[]? expectedSha256, string? location)
    {
        if (expectedSha256 is not null && expectedSha256.Length != HashSize)
        {
            throw new ArgumentException($"A SHA-256 is {HashSize} bytes, not {expectedSha256.Length}.", nameof(expectedSha256));
        }

        if (file.Length < MinFileSize)
        {
            throw Corrupt($"file is {file.Length} bytes, shorter than the smallest segment ({MinFileSize})", location);
        }

        // Hashes before parsing, so no parsed field from a damaged file is ever trusted, let alone returned.
        var bodyEnd = file.Length - HashSize;
        Span<byte> actual = stackalloc byte[HashSize];
        SHA256.HashData(file[..bodyEnd], actual);
        if (!CryptographicOperations.FixedTimeEquals(actual, file[bodyEnd..]))
        {
            throw Corrupt("checksum mismatch: the trailing SHA-256 does not match the content", location);
        }

        if (expectedSha256 is not null)
        {
            SHA256.HashData(file, actual);
            if (!CryptographicOperations.FixedTimeEquals(actual, expectedSha256))
            {
                throw Corrupt("file SHA-256 does not match the hash recorded for this segment", location);
            }
        }

        // A file whose hashes verify can still be structurally wrong (a bug in some writer); every field is checked
        // against the bytes that are actually there before it is used to slice or size anything.
        if (!file[..MagicSize].SequenceEqual(Magic))
        {
            throw Corrupt("bad magic: not a SITSEG01 segment", location);
        }

        var chatId = new Guid(file.Slice(ChatIdOffset, ChatIdSize), bigEndian: true);
        if (chatId != expectedChatId)
        {
            throw Corrupt($"chat id {chatId} does not match the expected {expectedChatId}", location);
        }

        var firstSeq = BinaryPrimitives.ReadInt64BigEndian(file[FirstSeqOffset..]);
        var lastSeq = BinaryPrimitives.ReadInt64BigEndian(file[LastSeqOffset..]);
        var count = BinaryPrimitives.ReadInt32BigEndian(file[CountOffset..]);
        if (firstSeq < 0 || lastSeq < firstSeq)
        {
            throw Corrupt($"seq range {firstSeq}..{lastSeq} is invalid", location);
        }

        // lastSeq - firstSeq cannot overflow: both are non-negative.
        if (count < 1 || lastSeq - firstSeq != count - 1L)
        {
            throw Corrupt($"record count {count} does not match seq range {firstSeq}..{lastSeq}", location);
        }

        int keyIdLength = BinaryPrimitives.ReadUInt16BigEndian(file[KeyIdLengthOffset..]);
        if (keyIdLength == 0 || keyIdLength > bodyEnd - KeyIdOffset)
        {
            throw Corrupt($"key id length {keyIdLength} is out of bounds", location);
        }

        string keyId;
        try
        {
            keyId = StrictUtf8.GetString(file.Slice(KeyIdOffset, keyIdLength));
        }
        catch (DecoderFallbackException ex)
        {
            throw new CorruptSegmentException("key id is not valid UTF-8", location, ex);
        }

        var position = KeyIdOffset + keyIdLength;

        // Bounds the list's capacity by the file's size, not by a count read from it.
        if (count > (bodyEnd - position) / RecordHeaderSize)
        {
            throw Corrupt($"record count {count} exceeds file", location);
        }

        var messages = new EncryptedMessage[count];
        for (var i = 0; i < count; i++)
        {
            var expectedSeq = firstSeq + i;
            if (bodyEnd - position < RecordHeaderSize)
            {
                throw Corrupt($"record {i} (seq {expectedSeq}) is truncated", location);
            }

            var seq = BinaryPrimitives.ReadInt64BigEndian(file[position..]);
            var length = BinaryPrimitives.ReadInt32BigEndian(file[(position + sizeof(long))..]);
            position += RecordHeaderSize;
            if (seq != expectedSeq)
            {
                throw Corrupt($"record {i} has seq {seq}, expected {expectedSeq}", location);
            }

            if (length <= 0)
            {
                throw Corrupt($"record {i} (seq {seq}) length {length} is not positive", location);
            }

            if (length > bodyEnd - position)
            {
                throw Corrupt($"record {i} (seq {seq}) length {length} exceeds file", location);
            }

            messages[i] = new EncryptedMessage(seq, file.Slice(position, length).ToArray());
            position += length;
        }

        if (position != bodyEnd)
        {
            throw Corrupt($"{bodyEnd - position} unexpected bytes after the last record", location);
        }

        return new SegmentContents(chatId, keyId, firstSeq, lastSeq, messages);
    }

    private static CorruptSegmentException Corrupt(string message, string? location) => new(message, location);
}
