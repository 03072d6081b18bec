using System.Buffers.Text;
using System.Text;
using SitMessenger.Chat.Crypto;
using SitMessenger.Chat.Messages;

namespace SitMessenger.MigrationService.DjangoImport;

/// <summary>Why a chat was not imported. <see cref="IsError"/> ones make the run end non-zero.</summary>
internal enum SkipKind
{
    UnreadableFile,
    WrongKey,
    CorruptToken,
    CorruptContent,
    CorruptCacheEntry,
    PasswordChat,
    NoMembers,
}

internal sealed class ChatSkippedException(SkipKind kind, string reason) : Exception(reason)
{
    public SkipKind Kind { get; } = kind;

    public bool IsError => Kind is not (SkipKind.PasswordChat or SkipKind.NoMembers);
}

/// <summary>A chat's messages as the original held them: its file, then what still waited in its cache, each once.</summary>
internal sealed record DjangoChatContent(IReadOnlyList<ChatMessage> Messages, long FileBytes, int FromCache, int CacheDuplicates);

/// <summary>
/// Reads one chat of the original: the file is one Fernet token (the chat's key from <c>messenger_crypt.key</c>) over
/// <c>str({'messages': [...]})</c>; the cache entry, if any, is appended as <c>update_file_from_cache</c> would have.
/// </summary>
internal sealed class DjangoChatReader(string mediaRoot, DjangoCache? cache)
{
    private const int FernetMinimumBytes = 1 + 8 + 16 + 16 + 32;

    /// <exception cref="ChatSkippedException">The chat cannot be imported; the reason says what failed and what to do.</exception>
    public async Task<DjangoChatContent> ReadAsync(DjangoChat chat, CancellationToken cancellationToken)
    {
        if (chat.Owners.Count == 0)
        {
            throw new ChatSkippedException(SkipKind.NoMembers, "the chat has no owners left, so no one could read it");
        }

        var path = Path.GetFullPath(Path.Combine(mediaRoot, chat.MessageFile));
        byte[] token;
        try
        {
            token = await File.ReadAllBytesAsync(path, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new ChatSkippedException(SkipKind.UnreadableFile,
                $"its file {path} cannot be read ({ex.GetType().Name}: {ex.Message}); check --media-root and the file's permissions, then run again");
        }

        var fromFile = ParseMessages(Decrypt(chat, token, path), path);
        var messages = new List<ChatMessage>(fromFile);
        int fromCache = 0, duplicates = 0;
        if (cache is not null && await cache.ReadAsync(chat.Id) is { } pickled)
        {
            IReadOnlyList<ChatMessage> cached;
            try
            {
                cached = DjangoMessages.From(PickleReader.Read(pickled));
            }
            catch (FormatException ex)
            {
                throw new ChatSkippedException(SkipKind.CorruptCacheEntry,
                    $"its cache entry {cache.KeyOf(chat.Id)} is not the original's pickled messages ({ex.Message}); check --redis, --redis-database and --cache-key-prefix");
            }

            // A flush killed between writing the file and deleting the entry leaves the same messages in both: each once.
            var inFile = new HashSet<ChatMessage>(fromFile);
            foreach (var message in cached)
            {
                if (inFile.Contains(message))
                {
                    duplicates++;
                }
                else
                {
                    messages.Add(message);
                    fromCache++;
                }
            }
        }

        return new DjangoChatContent(messages, token.LongLength, fromCache, duplicates);
    }

    private static byte[] Decrypt(DjangoChat chat, byte[] file, string path)
    {
        // The original's create_crypto(password) stored the password-derived key in the same column; its own reads
        // derived it again from a password property that is always None and failed. The stored key is tried anyway.
        if (chat.Key is null or { Length: 0 })
        {
            throw chat.IsChatPassword
                ? new ChatSkippedException(SkipKind.PasswordChat, "a password chat with no stored key: the original could not open it either")
                : new ChatSkippedException(SkipKind.WrongKey, "its messenger_crypt row has no key; restore the key column from a backup, then run again");
        }

        byte[] key;
        try
        {
            key = Fernet.ParseKey(Encoding.ASCII.GetString(chat.Key).Trim());
        }
        catch (FormatException)
        {
            throw new ChatSkippedException(SkipKind.WrongKey, "its messenger_crypt key is not a Fernet key (base64url of 32 bytes); check the key column, then run again");
        }

        var token = file.AsSpan().Trim(" \t\r\n"u8);
        try
        {
            return Fernet.Decrypt(key, token, ttl: null);
        }
        catch (InvalidFernetTokenException)
        {
            if (chat.IsChatPassword)
            {
                throw new ChatSkippedException(SkipKind.PasswordChat, "a password chat its stored key does not open: the original could not open it either");
            }

            throw LooksLikeFernet(token)
                ? new ChatSkippedException(SkipKind.WrongKey,
                    $"its key does not open {path} (wrong key, or the file was altered); check that the file and messenger_crypt row belong together, then run again")
                : new ChatSkippedException(SkipKind.CorruptToken,
                    $"{path} is not a Fernet token (damaged or truncated); restore it from a backup, then run again");
        }
    }

    /// <summary>Well formed (base64url, version 0x80, a possible length): then a failure means the key, not the file.</summary>
    private static bool LooksLikeFernet(ReadOnlySpan<byte> token)
    {
        var unpadded = token.TrimEnd((byte)'=');
        var raw = new byte[Base64Url.GetMaxDecodedLength(unpadded.Length)];
        if (Base64Url.DecodeFromUtf8(unpadded, raw, out _, out var written) != System.Buffers.OperationStatus.Done)
        {
            return false;
        }

        return written >= FernetMinimumBytes && raw[0] == 0x80 && (written - FernetMinimumBytes) % 16 == 0;
    }

    private static IReadOnlyList<ChatMessage> ParseMessages(byte[] plaintext, string path)
    {
        try
        {
            return DjangoMessages.From(PythonLiteral.Parse(new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(plaintext)));
        }
        catch (Exception ex) when (ex is FormatException or DecoderFallbackException)
        {
            throw new ChatSkippedException(SkipKind.CorruptContent, $"{path} decrypts but does not hold the original's messages ({ex.Message})");
        }
    }
}
