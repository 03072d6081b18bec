using SitMessenger.Api.Infrastructure;
using SitMessenger.Chat.Messages;

namespace SitMessenger.Api.Chats;

internal sealed record SentMessage(long Seq, DateTime Datetime, string User, string Message);

/// <summary>A run of consecutive messages of a chat: those already in segments and those still pending.</summary>
internal sealed record ChatWindow(IReadOnlyList<SentMessage> Flushed, IReadOnlyList<SentMessage> Pending, bool HasMore);

/// <summary>The message path of the Api: encrypt, store durably, cache; and read back in order.</summary>
internal sealed class ChatMessageService(
    ChatStore store,
    PendingMessageCache cache,
    ChatMessageCipher cipher,
    TimeProvider time,
    ApiTelemetry telemetry)
{
    public const int MaxMessageLength = 3750;

    /// <summary>Null when the chat is not the sender's (or does not exist). Returns only once the message is durable.</summary>
    public async Task<SentMessage?> SendAsync(Guid chatId, Guid senderId, string senderName, string text, CancellationToken cancellationToken)
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
        var seq = await store.AppendAsync(chatId, senderId, now, ciphertext, cancellationToken);
        if (seq is null)
        {
            return null;
        }

        cache.Add(chatId, new EncryptedMessage(seq.Value, ciphertext));
        telemetry.MessagesSent.Add(1);
        return new SentMessage(seq.Value, now, senderName, text);
    }

    /// <summary>Up to <paramref name="limit"/> messages before <paramref name="beforeSeq"/> (exclusive), oldest first.</summary>
    public async Task<ChatWindow> ReadAsync(ChatRecord chat, long beforeSeq, int limit, CancellationToken cancellationToken)
    {
        var to = Math.Min(chat.LastSeq, beforeSeq - 1);
        var from = Math.Max(0, to - limit);
        var dataKey = cipher.DataKey(chat.Id, chat.Key);

        var pendingFrom = Math.Max(from, chat.FlushedSeq);
        var encrypted = await cache.TryReadAsync(chat.Id, pendingFrom, to);
        if (encrypted is null)
        {
            encrypted = await store.ReadPendingAsync(chat.Id, pendingFrom, to, cancellationToken);
            cache.Add(chat.Id, encrypted.ToList());
        }

        var pending = encrypted.Select(m => Decrypt(dataKey, m)).ToList();
        return new ChatWindow([], pending, from > 0);
    }

    private SentMessage Decrypt(byte[] dataKey, EncryptedMessage encrypted)
    {
        var message = cipher.Decrypt(dataKey, encrypted.Ciphertext);
        return new SentMessage(encrypted.Seq, message.Datetime, message.User, message.Message);
    }

    private static DateTime TruncateToMicroseconds(DateTime value) =>
        new(value.Ticks - (value.Ticks % 10), DateTimeKind.Utc);
}
