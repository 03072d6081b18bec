using Microsoft.Extensions.Options;
using SitMessenger.Chat.Storage;
using SitMessenger.Api.Infrastructure;
using SitMessenger.Chat.Messages;
using SitMessenger.Api.RealTime;

namespace SitMessenger.Api.Chats;

internal sealed record SentMessage(long Seq, DateTime Datetime, string User, string Message);

/// <summary>
/// A message that is durable in PostgreSQL, with its chat as the send left it: created, flushed mark, members (when
/// asked for), and the data key, so that the answer can show the chat without asking PostgreSQL again.
/// </summary>
/// <remarks><see cref="Repeated"/>: the client message id was used before; this is the first send's message, nothing new was stored.</remarks>
internal sealed record SendReceipt(
    Guid ChatId, SentMessage Message, DateTime ChatCreated, long FlushedSeq, IReadOnlyList<ChatMember>? Members, byte[] DataKey, bool Repeated = false);

/// <summary>A run of consecutive messages of a chat: those already in segments and those still pending.</summary>
internal sealed record ChatWindow(IReadOnlyList<SentMessage> Flushed, IReadOnlyList<SentMessage> Pending, bool HasMore);

/// <summary>The message path of the Api: encrypt, store durably, cache; and read back in order.</summary>
internal sealed class ChatMessageService(
    ChatStore store,
    PendingMessageCache cache,
    SegmentReader segments,
    RecentMessages recent,
    KnownChatMembers knownMembers,
    ChatFlushRequests flushRequests,
    ChatMessageCipher cipher,
    ChatEventPublisher events,
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
            events.ChatCreated(chatId, members);
        }

        return created;
    }

    /// <summary>
    /// Null when the chat is not the sender's (or does not exist). Returns only once the message is durable, and then
    /// pushes it to every member. With a client message id the sender used in this chat before, stores nothing and
    /// answers the first send's message (<see cref="SendReceipt.Repeated"/>). The chat's members come with the
    /// receipt: those held for its current member-list version, else read in the same round trip as the insert.
    /// </summary>
    public async Task<SendReceipt?> SendAsync(
        Guid chatId, Guid senderId, string senderName, string text, CancellationToken cancellationToken, string? clientMessageId = null)
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
        var appended = await store.AppendAsync(
            chatId, senderId, now, ciphertext, cancellationToken, knownMembers.VersionHeld(chatId), clientMessageId);
        if (appended is null)
        {
            return null;
        }

        if (appended.Repeated)
        {
            return await FirstSendAsync(chatId, senderId, appended.Seq, cancellationToken);
        }

        var members = knownMembers.After(chatId, appended) ?? await MembersAfterCommitAsync(chatId, cancellationToken);

        var sent = new SentMessage(appended.Seq, now, senderName, text);
        cache.Add(chatId, new EncryptedMessage(appended.Seq, ciphertext));
        recent.AddIfNext(chatId, sent);
        flushRequests.Request(chatId);
        telemetry.MessagesSent.Add(1);
        events.MessageStored(chatId, sent, senderId, members is null ? [] : [.. members.Select(m => m.Id)]);
        return new SendReceipt(chatId, sent, appended.ChatCreated, appended.FlushedSeq, members, dataKey);
    }

    /// <summary>
    /// Rarely (the list held was evicted during the send) the statement read no members. The message is committed, so
    /// failing to read them must not fail the send, whose answer would then say "nothing was saved": without them the
    /// event reaches no one (clients fill the gap with CatchUp) and the answer reads them in its own read-back.
    /// </summary>
    private async Task<IReadOnlyList<ChatMember>?> MembersAfterCommitAsync(Guid chatId, CancellationToken cancellationToken)
    {
        try
        {
            return await store.MembersAsync(chatId, cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>A repeated send's answer: the message the first send stored, read back, and the chat as it is now.</summary>
    private async Task<SendReceipt?> FirstSendAsync(Guid chatId, Guid senderId, long seq, CancellationToken cancellationToken)
    {
        var chat = await store.FindForMemberAsync(chatId, senderId, cancellationToken);
        if (chat is null)
        {
            return null;
        }

        var window = await ReadAsync(chat, senderId, seq + 1, 1, cancellationToken);
        var first = window.Flushed.Concat(window.Pending).Single();
        var members = await store.MembersAsync(chatId, cancellationToken);
        return new SendReceipt(chatId, first, chat.Created, chat.FlushedSeq, members, cipher.DataKey(chat.Id, chat.Key), Repeated: true);
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
        var leftText = $"{username} left the chat";
        var line = cipher.Encrypt(cipher.DataKey(chat.Id, chat.Key), new ChatMessage(now, "", leftText));
        var left = await store.LeaveAsync(chatId, userId, now, line, cancellationToken);
        if (left is null)
        {
            return false;
        }

        if (left.LeftLineSeq is { } seq)
        {
            cache.Add(chatId, new EncryptedMessage(seq, line));
            flushRequests.Request(chatId);
            var remaining = await store.MembersAsync(chatId, cancellationToken);
            events.MemberLeft(chatId, userId, new SentMessage(seq, now, "", leftText), [.. remaining.Select(m => m.Id)]);
        }
        else
        {
            cache.Forget(chatId);
            recent.Forget(chatId);
            knownMembers.Forget(chatId);
            cipher.Forget(chatId);
            events.MemberLeft(chatId, userId, null, []);
        }

        return true;
    }

    /// <summary>Up to <paramref name="limit"/> messages before <paramref name="beforeSeq"/> (exclusive), oldest first.</summary>
    public Task<ChatWindow> ReadAsync(ChatRecord chat, Guid readerId, long beforeSeq, int limit, CancellationToken cancellationToken) =>
        ReadAsync(chat.Id, Math.Min(chat.LastSeq, beforeSeq - 1), chat.FlushedSeq, cipher.DataKey(chat.Id, chat.Key), readerId, limit, cancellationToken);

    /// <summary>The latest <paramref name="limit"/> messages up to the one just sent, as the send left the chat.</summary>
    public Task<ChatWindow> ReadUpToAsync(SendReceipt sent, Guid readerId, int limit, CancellationToken cancellationToken) =>
        ReadAsync(sent.ChatId, sent.Message.Seq, sent.FlushedSeq, sent.DataKey, readerId, limit, cancellationToken);

    /// <summary>
    /// Messages with to - limit &lt; seq &lt;= to: what the chat's window of recent messages holds, and the rest from
    /// segments and pending rows (decrypting only those).
    /// </summary>
    private async Task<ChatWindow> ReadAsync(
        Guid chatId, long to, long flushedSeq, byte[] dataKey, Guid readerId, int limit, CancellationToken cancellationToken)
    {
        var from = Math.Max(0, to - limit);
        var held = recent.Read(chatId, from, to);
        var messages = new List<SentMessage>((int)Math.Max(0, to - from));
        var mark = flushedSeq;
        if (held.MissingBeforeTo > held.MissingBeforeFrom)
        {
            (var before, mark) = await ReadStoredAsync(chatId, held.MissingBeforeFrom, held.MissingBeforeTo, mark, dataKey, readerId, cancellationToken);
            messages.AddRange(before);
        }

        messages.AddRange(held.Run);
        if (held.MissingAfterTo > held.MissingAfterFrom)
        {
            (var after, mark) = await ReadStoredAsync(chatId, held.MissingAfterFrom, held.MissingAfterTo, mark, dataKey, readerId, cancellationToken);
            messages.AddRange(after);
        }

        if (messages.Count != held.Run.Count)
        {
            recent.Add(chatId, messages);
        }

        // Which of them are in segments is the flushed mark's to say, as PostgreSQL last told it.
        var flushed = messages.FindIndex(m => m.Seq > mark) is var split and >= 0 ? split : messages.Count;
        return new ChatWindow(messages[..flushed], messages[flushed..], from > 0);
    }

    /// <summary>
    /// Messages with after &lt; seq &lt;= to from storage: those at or below the flushed mark from segments, the rest
    /// from the pending rows (Redis's copy when it holds them all). Returns the mark it read them under.
    /// </summary>
    private async Task<(List<SentMessage> Messages, long FlushedSeq)> ReadStoredAsync(
        Guid chatId, long after, long to, long flushedSeq, byte[] dataKey, Guid readerId, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var flushedTo = Math.Min(to, flushedSeq);
            var pendingFrom = Math.Max(after, flushedSeq);
            var flushed = await segments.ReadAsync(chatId, after, flushedTo, cancellationToken);
            var pending = await cache.TryReadAsync(chatId, pendingFrom, to);
            if (pending is null)
            {
                pending = await store.ReadPendingAsync(chatId, pendingFrom, to, cancellationToken);
                cache.Add(chatId, pending.ToList());
            }

            if (flushed.Count == Math.Max(0, flushedTo - after) && pending.Count == Math.Max(0, to - pendingFrom))
            {
                return ([.. flushed.Concat(pending).Select(m => Decrypt(dataKey, m))], flushedSeq);
            }

            // A flush moved messages from pending rows into a segment between our reads: look again with its new mark.
            if (attempt == 3 || await store.FindForMemberAsync(chatId, readerId, cancellationToken) is not { } reloaded)
            {
                throw new InvalidOperationException($"chat {chatId}: messages {after + 1}..{to} could not be read consistently");
            }

            flushedSeq = reloaded.FlushedSeq;
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
