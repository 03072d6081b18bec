using System.Globalization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using SitMessenger.Api.Auth;
using SitMessenger.Api.Chats;
using SitMessenger.Api.Infrastructure;
using SitMessenger.Chat.Storage;

namespace SitMessenger.Api.RealTime;

/// <summary>
/// The chat hub at /hubs/chat. A connection hears every chat its user belongs to (see <see cref="ChatEventPublisher"/>)
/// and can send, say it is typing, mark read and catch up. Every call checks membership against PostgreSQL; an error
/// is a HubException whose message is the REST API's detail text, and changes nothing.
/// </summary>
[Authorize]
internal sealed partial class ChatHub(
    ChatMessageService messages,
    ChatStore store,
    ChatEventPublisher events,
    ReadReceipts receipts,
    HubConnections connections,
    IOptions<RealTimeOptions> options,
    TimeProvider time,
    ILogger<ChatHub> logger) : Hub
{
    private const string QuotaItem = "sit.quota";

    private Guid UserId => Context.User!.UserId();

    public override async Task OnConnectedAsync()
    {
        var user = UserId;
        var limits = options.Value;
        if (!connections.TryAdd(user, limits.ConnectionsPerUser))
        {
            LogRefused(logger, user, Context.ConnectionId);
            throw new HubException($"Too many connections: at most {limits.ConnectionsPerUser} per user.");
        }

        Context.Items[QuotaItem] = new ConnectionQuota(limits.SendsPerWindow, limits.TypingPerWindow, limits.SendWindow);
        try
        {
            await Groups.AddToGroupAsync(Context.ConnectionId, ChatEventPublisher.UserGroup(user), Context.ConnectionAborted);
        }
        catch
        {
            Context.Items.Remove(QuotaItem);
            connections.Remove(user);
            throw;
        }

        LogConnected(logger, user, Context.ConnectionId);
        await Clients.Caller.SendAsync(ChatEventNames.Ready, new ReadyEvent(user), Context.ConnectionAborted);
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        // Only a connection that was counted (OnConnectedAsync got that far) is taken off the count.
        if (Context.Items.Remove(QuotaItem))
        {
            connections.Remove(UserId);
            LogDisconnected(logger, UserId, Context.ConnectionId);
        }

        return Task.CompletedTask;
    }

    /// <summary>Stores a message in the chat and answers it as stored; every member (the sender too) also gets <c>message</c>.</summary>
    public async Task<HubSendResult> Send(HubSendRequest request)
    {
        if (request is null)
        {
            throw new HubException("Send takes {chat_id, message, client_message_id?}.");
        }

        var text = request.Message;
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new HubException($"message: {DrfErrors.Blank}");
        }

        if (text.Length > ChatMessageService.MaxMessageLength)
        {
            throw new HubException($"message: Ensure this field has no more than {ChatMessageService.MaxMessageLength} characters.");
        }

        if (request.ClientMessageId is { } id && !ClientMessageIds.IsValid(id))
        {
            throw new HubException($"client_message_id: {ClientMessageIds.Invalid}");
        }

        Throttle(Quota.TakeSend(time.GetUtcNow()));
        var sent = await messages.SendAsync(request.ChatId, UserId, Context.User!.Username(), text, Context.ConnectionAborted, request.ClientMessageId)
            ?? throw new HubException(DrfErrors.NotFoundDetail);
        var m = sent.Message;
        return new HubSendResult(request.ChatId, m.Seq, m.Datetime, m.User, m.Message, sent.Repeated);
    }

    /// <summary>Tells the chat's other members that the caller is typing (they drop it after its expiry).</summary>
    public async Task Typing(Guid chatId)
    {
        Throttle(Quota.TakeTyping(time.GetUtcNow()));
        var members = await store.MemberIdsAsync(chatId, UserId, Context.ConnectionAborted)
            ?? throw new HubException(DrfErrors.NotFoundDetail);
        var user = UserId;
        await events.SendAsync(
            [.. members.Where(m => m != user)],
            ChatEventNames.Typing,
            new TypingEvent(chatId, Context.User!.Username(), user, (int)options.Value.TypingExpiry.TotalMilliseconds));
    }

    /// <summary>Marks the chat read up to seq (a mark never goes down); every member hears <c>read</c>.</summary>
    public async Task<HubReadResult> MarkRead(HubReadRequest request)
    {
        if (request is null || request.Seq < 1)
        {
            throw new HubException("seq: Ensure this value is greater than or equal to 1.");
        }

        var outcome = await receipts.MarkAsync(request.ChatId, UserId, Context.User!.Username(), request.Seq, Context.ConnectionAborted);
        if (outcome.NotFound)
        {
            throw new HubException(DrfErrors.NotFoundDetail);
        }

        return outcome.ReadSeq is { } read
            ? new HubReadResult(request.ChatId, read)
            : throw new HubException("seq: " + ReadReceipts.PastLastSeq(outcome.LastSeq));
    }

    /// <summary>Messages after <c>after_seq</c>, oldest first: what a client missed while it was away, from the history REST serves.</summary>
    public async Task<HubCatchUpResult> CatchUp(HubCatchUpRequest request)
    {
        var max = options.Value.MaxCatchUp;
        if (request is null || request.AfterSeq < 0)
        {
            throw new HubException("after_seq: Ensure this value is greater than or equal to 0.");
        }

        if (request.Limit is < 1 || request.Limit > max)
        {
            throw new HubException(string.Create(CultureInfo.InvariantCulture, $"limit: Ensure this value is between 1 and {max}."));
        }

        var chat = await store.FindForMemberAsync(request.ChatId, UserId, Context.ConnectionAborted)
            ?? throw new HubException(DrfErrors.NotFoundDetail);
        var to = Math.Min(chat.LastSeq, request.AfterSeq + (request.Limit ?? max));
        if (to <= request.AfterSeq)
        {
            return new HubCatchUpResult(chat.Id, [], false, chat.LastSeq);
        }

        var window = await messages.ReadAsync(chat, UserId, to + 1, (int)(to - request.AfterSeq), Context.ConnectionAborted);
        var missed = window.Flushed.Concat(window.Pending).Select(m => new CatchUpMessage(m.Seq, m.Datetime, m.User, m.Message)).ToList();
        return new HubCatchUpResult(chat.Id, missed, to < chat.LastSeq, chat.LastSeq);
    }

    private ConnectionQuota Quota => (ConnectionQuota)Context.Items[QuotaItem]!;

    private static void Throttle(TimeSpan? wait)
    {
        if (wait is { } w)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(w.TotalSeconds));
            throw new HubException(string.Create(CultureInfo.InvariantCulture, $"Request was throttled. Expected available in {seconds} seconds."));
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Hub connection {ConnectionId} of user {UserId} opened")]
    private static partial void LogConnected(ILogger logger, Guid userId, string connectionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Hub connection {ConnectionId} of user {UserId} closed")]
    private static partial void LogDisconnected(ILogger logger, Guid userId, string connectionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Hub connection {ConnectionId} of user {UserId} refused: too many connections")]
    private static partial void LogRefused(ILogger logger, Guid userId, string connectionId);
}

/// <summary>Client message ids (Idempotency-Key, client_message_id): 1..100 visible ASCII characters.</summary>
internal static class ClientMessageIds
{
    public const int MaxLength = 100;

    public const string Invalid = "Must be 1 to 100 visible ASCII characters.";

    public static bool IsValid(string value) => value.Length is >= 1 and <= MaxLength && value.All(c => c is >= '!' and <= '~');
}
