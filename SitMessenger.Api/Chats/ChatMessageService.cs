using Microsoft.Extensions.Options;
using SitMessenger.Chat.Storage;
using SitMessenger.Api.Infrastructure;
using SitMessenger.Chat.Messages;

namespace SitMessenger.Api.Chats;

internal sealed record SentMessage(long Seq, DateTime Datetime, string User, string Message);

/// <summary>A message that is durable in PostgreSQL, with the creation time of its chat.</summary>
internal sealed record SendReceipt(SentMessage Message, DateTime ChatCreated);

/// <summary>A run of consecutive messages of a chat: those already in segments and those still pending.</summary>
internal sealed record ChatWindow(IReadOnlyList<SentMessage> Flushed, IReadOnlyList<SentMessage> Pending, bool HasMore);

/// <summary>The message path of the Api: encrypt, store durably, cache; and read back in order.</summary>
internal sealed class ChatMessageService(
    ChatStore store,
    PendingMessageCache cache,
    SegmentReader segments,
    ChatFlushRequests flushRequests,
    ChatMessageCipher cipher,
    TimeProvider time,
    IOptions<ChatLimitsOptions> limits,
    ApiTelemetry telemetry)
{
    public const int MaxMessageLength = 3750;

    /// <summary>
    /// A new chat with a data key of its own (stored only wrapped) and its first line, "Beginning of messages",
    /// pending like any message, so the first flush writes it into the chat's first segment.
    /// </summary>
    /// <remarks>No chat (and a RetryAfter) when the creator is over the chats-per-window limit.</remarks>
    public async Task<ChatCreation> CreateChatAsync(Guid creatorId, IReadOnlyCollection<Guid> members, CancellationToken cancellationToken)
    {
        var chatId = Guid.CreateVersion7();
        var dataKey = cipher.KeyRing.NewDataKey();
        var now = TruncateToMicroseconds(time.GetUtcNow().UtcDateTime);
        var first = cipher.Encrypt(dataKey, ChatMessage.Beginning(now));
        var limit = new ChatCreationLimit(limits.Value.ChatsPerUser, limits.Value.CreationWindow);
        var created = await store.CreateAsync(chatId, creatorId, members, cipher.KeyRing.Wrap(dataKey), now, first, limit, cancellationToken);
        if (created.Chat is not null)
        {
            cache.Add(chatId, new EncryptedMessage(1, first));
            flushRequests.Request(chatId);
        }

        return created;
    }

    /// <summary>Null when the chat is not the sender's (or does not exist). Returns only once the message is durable.</summary>
    public async Task<SendReceipt?> SendAsync(Guid chatId, Guid senderId, string senderName, string text, CancellationToken cancellationToken)
    {
        using var activity = ApiTelemetry.Source.StartActivity("chat.send");
        activity?.SetTag("sit.chat.id", chatId);

        var dataKey = cipher.CachedDataKey(chatId);
        if (dataKey is null)
        {
            var chat = await store.FindForMemberAsync(chatId, senderId, cancellationToken);
            if (chat is null)
            {
                return null;
            }

            dataKey = cipher.DataKey(chat.Id, chat.Key);
        }

        // PostgreSQL keeps microseconds; the encrypted copy must say the same time as the row.
        var now = TruncateToMicroseconds(time.GetUtcNow().UtcDateTime);
        var ciphertext = cipher.Encrypt(dataKey, new ChatMessage(now, senderName, text));
        // Membership is checked again inside the insert: a cached key proves nothing about who may write.
        var appended = await store.AppendAsync(chatId, senderId, now, ciphertext, cancellationToken);
        if (appended is null)
        {
            return null;
        }

        cache.Add(chatId, new EncryptedMessage(appended.Seq, ciphertext));
        flushRequests.Request(chatId);
        telemetry.MessagesSent.Add(1);
        return new SendReceipt(new SentMessage(appended.Seq, now, senderName, text), appended.ChatCreated);
    }

    /// <summary>
    /// The member leaves the chat: it leaves their list, the others keep it and read "name left the chat" in it, and
    /// the last member to leave deletes it. False when the chat is not the user's (or does not exist).
    /// </summary>
    public async Task<bool> LeaveAsync(Guid chatId, Guid userId, string username, CancellationToken cancellationToken)
    {
        var chat = await store.FindForMemberAsync(chatId, userId, cancellationToken);
        if (chat is null)
        {
            return false;
        }

        var now = TruncateToMicroseconds(time.GetUtcNow().UtcDateTime);
        // Written by no one (user ""), as the chat's first line is: the client shows it as a line of the chat itself.
        var line = cipher.Encrypt(cipher.DataKey(chat.Id, chat.Key), new ChatMessage(now, "", $"{username} left the chat"));
        var left = await store.LeaveAsync(chatId, userId, now, line, cancellationToken);
        if (left is null)
        {
            return false;
        }

        if (left.LeftLineSeq is { } seq)
        {
            cache.Add(chatId, new EncryptedMessage(seq, line));
            flushRequests.Request(chatId);
        }
        else
        {
            cache.Forget(chatId);
            cipher.Forget(chatId);
        }

        return true;
    }

    /// <summary>Up to <paramref name="limit"/> messages before <paramref name="beforeSeq"/> (exclusive), oldest first.</summary>
    public async Task<ChatWindow> ReadAsync(ChatRecord chat, Guid readerId, long beforeSeq, int limit, CancellationToken cancellationToken)
    {
        var dataKey = cipher.DataKey(chat.Id, chat.Key);
        for (var attempt = 1; ; attempt++)
        {
            var to = Math.Min(chat.LastSeq, beforeSeq - 1);
            var from = Math.Max(0, to - limit);
            var flushedTo = Math.Min(to, chat.FlushedSeq);
            var pendingFrom = Math.Max(from, chat.FlushedSeq);

            var flushed = await segments.ReadAsync(chat.Id, from, flushedTo, cancellationToken);
            var pending = await cache.TryReadAsync(chat.Id, pendingFrom, to);
            if (pending is null)
            {
                pending = await store.ReadPendingAsync(chat.Id, pendingFrom, to, cancellationToken);
                cache.Add(chat.Id, pending.ToList());
            }

            var complete = flushed.Count == Math.Max(0, flushedTo - from) && pending.Count == Math.Max(0, to - pendingFrom);
            if (complete)
            {
                return new ChatWindow(
                    [.. flushed.Select(m => Decrypt(dataKey, m))],
                    [.. pending.Select(m => Decrypt(dataKey, m))],
                    from > 0);
            }

            // A flush moved messages from pending rows into a segment between our reads: look again with its new mark.
            if (attempt == 3 || await store.FindForMemberAsync(chat.Id, readerId, cancellationToken) is not { } reloaded)
            {
                throw new InvalidOperationException($"chat {chat.Id}: messages {from + 1}..{to} could not be read consistently");
            }

            chat = reloaded;
        }
    }

    private SentMessage Decrypt(byte[] dataKey, EncryptedMessage encrypted)
    {
        var message = cipher.Decrypt(dataKey, encrypted.Ciphertext);
        return new SentMessage(encrypted.Seq, message.Datetime, message.User, message.Message);
    }

    private static DateTime TruncateToMicroseconds(DateTime value) =>
        new(value.Ticks - (value.Ticks % 10), DateTimeKind.Utc);
}
