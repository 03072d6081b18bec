using System.Globalization;
using Microsoft.Extensions.Options;
using SitMessenger.Chat.Storage;
using SitMessenger.Api.Accounts;
using SitMessenger.Api.Auth;
using SitMessenger.Api.Chats;
using SitMessenger.Api.Infrastructure;
using SitMessenger.Api.RealTime;
using SitMessenger.Chat.Accounts;
using SitMessenger.Chat.Messages;

namespace SitMessenger.Api.Apis;

internal static class ChatsApi
{
    public const int DefaultWindow = 100;
    public const int MaxWindow = 500;
    public const int DefaultHistoryPage = 50;

    /// <summary>A client's id for one send: a retry with the same one answers the first send and stores nothing.</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>On an answer to a repeated Idempotency-Key: this is the first send's result.</summary>
    public const string ReplayedHeader = "Idempotent-Replayed";

    public static IEndpointRouteBuilder MapChatsApi(this IEndpointRouteBuilder app)
    {
        var chats = app.MapGroup("/api/v1/chat").WithTags("Chats").RequireAuthorization();

        chats.MapGet("/", ListChatsAsync)
            .WithSummary("The caller's chats, most recently updated first; all of them, or a page with ?limit=&before= (Link: rel=\"next\")");
        chats.MapPost("/", CreateChatAsync).WithSummary("Create a chat with the given users; the caller is added")
            .Produces<DetailBody>(StatusCodes.Status429TooManyRequests);
        chats.MapGet("/{id}/", GetChatAsync).WithSummary("A chat with its members and its most recent messages");
        chats.MapPatch("/{id}/", PatchChatAsync).WithSummary("Send a message (the original client's way); answers the chat");
        chats.MapDelete("/{id}/", LeaveChatAsync)
            .WithSummary("Leave a chat: it leaves the caller's list, the other members keep it; the last member to leave deletes it");
        chats.MapPost("/{id}/messages/", SendMessageAsync).WithSummary("Send a message; answers just that message");
        chats.MapGet("/{id}/messages/", GetHistoryAsync).WithSummary("Messages before a sequence number, oldest first");
        return app;
    }

    private static async Task<Results<Ok<List<ChatListItemResponse>>, BadRequest<Dictionary<string, string[]>>>> ListChatsAsync(
        int? limit, string? before, HttpContext http, ChatStore store, IOptions<ChatLimitsOptions> options, CancellationToken cancellationToken)
    {
        // Without limit and before the answer is the whole list, as the web client has always read it.
        ChatListPage? page = null;
        if (limit is not null || before is not null)
        {
            var max = options.Value.MaxListPage;
            if (limit is < 1 || limit > max)
            {
                return DrfErrors.Field("limit", $"Ensure this value is between 1 and {max}.");
            }

            var position = before is null ? null : ChatListCursor.Parse(before);
            if (before is not null && position is null)
            {
                return DrfErrors.Field("before", ChatListCursor.Invalid);
            }

            page = new ChatListPage(limit ?? options.Value.DefaultListPage, position);
        }

        // One more than the page, to know whether there is a next one.
        var fetch = page is null ? null : page with { Limit = page.Limit + 1 };
        var chats = await store.ListForMemberAsync(http.User.UserId(), fetch, cancellationToken);
        if (page is not null && chats.Count > page.Limit)
        {
            chats = [.. chats.Take(page.Limit)];
            var last = chats[^1];
            http.Response.Headers.Link = $"</api/v1/chat/?limit={page.Limit}&before={Uri.EscapeDataString(ChatListCursor.Format(last.Updated, last.Id))}>; rel=\"next\"";
        }

        return TypedResults.Ok(chats.Select(c => new ChatListItemResponse(
            c.Id, c.Created, c.Updated, c.Members, Math.Max(0, c.LastSeq - c.ReadSeq), c.LastSeq)).ToList());
    }

    private static async Task<Results<Created<ChatSummaryResponse>, BadRequest<Dictionary<string, string[]>>, JsonHttpResult<DetailBody>>> CreateChatAsync(
        CreateChatRequest? body, HttpContext http, UserStore users, BlockStore blocks, ChatMessageService messages, IOptions<ChatLimitsOptions> options,
        CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var owners = UserIdList.Parse("owner", body?.Owner, errors);
        if (errors.Any)
        {
            return DrfErrors.Fields(errors);
        }

        var caller = http.User.UserId();
        var members = owners.Append(caller).Distinct().ToList();
        // Before any lookup: a list of 10,000 ids is refused without asking PostgreSQL about each.
        var maxMembers = options.Value.MembersPerChat;
        if (members.Count > maxMembers)
        {
            return DrfErrors.Field("owner", $"Ensure this field has no more than {maxMembers - 1} users: a chat has at most {maxMembers} members, you included.");
        }

        var unknown = await users.FindUnknownAsync(owners, cancellationToken);
        foreach (var id in unknown)
        {
            errors.Add("owner", $"Invalid pk \"{id}\" - object does not exist.");
        }

        // Says only who (an id GET /api/v1/users/ lists anyway) cannot be added, not whom else they blocked.
        foreach (var id in await blocks.BlockersAmongAsync(caller, owners, cancellationToken))
        {
            errors.Add("owner", $"User \"{id}\" cannot be added to a chat by you.");
        }

        if (errors.Any)
        {
            return DrfErrors.Fields(errors);
        }

        var created = await messages.CreateChatAsync(caller, members, cancellationToken);
        if (created.Chat is not { } chat)
        {
            return Throttled(http, created.RetryAfter ?? options.Value.CreationWindow);
        }

        return TypedResults.Created($"/api/v1/chat/{chat.Id}/", new ChatSummaryResponse(chat.Id, chat.Created, chat.Updated, [.. members.Order()]));
    }

    private static JsonHttpResult<DetailBody> Throttled(HttpContext http, TimeSpan wait)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Json(
            DrfErrors.Detail($"Request was throttled. Expected available in {seconds} seconds."), statusCode: StatusCodes.Status429TooManyRequests);
    }

    private static async Task<Results<ChatDetailResult, NotFound<DetailBody>, BadRequest<Dictionary<string, string[]>>>> GetChatAsync(
        string id, int? limit, HttpContext http, ChatStore store, ChatMessageService messages, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var chatId))
        {
            return DrfErrors.NotFound();
        }

        if (limit is < 1 or > MaxWindow)
        {
            return DrfErrors.Field("limit", $"Ensure this value is between 1 and {MaxWindow}.");
        }

        var detail = await DetailAsync(chatId, http.User.UserId(), limit ?? DefaultWindow, store, messages, cancellationToken);
        return detail is null ? DrfErrors.NotFound() : new ChatDetailResult(detail);
    }

    private static async Task<Results<ChatDetailResult, NotFound<DetailBody>, BadRequest<Dictionary<string, string[]>>, BadRequest<string[]>, BadRequest<DetailBody>>> PatchChatAsync(
        string id, PatchChatRequest? body, HttpContext http, ChatStore store, ChatMessageService messages, SentChatAnswer answer, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var chatId))
        {
            return DrfErrors.NotFound();
        }

        if (!TryClientMessageId(http.Request, out var clientMessageId))
        {
            return InvalidIdempotencyKey();
        }

        var errors = new FieldErrors();
        var text = errors.RequireText("new_message", body?.NewMessage);
        if ((text is null || text.Length > ChatMessageService.MaxMessageLength)
            && await store.FindForMemberAsync(chatId, http.User.UserId(), cancellationToken) is null)
        {
            // Someone else's chat is not found, whatever the body: its existence is not for them to learn.
            return DrfErrors.NotFound();
        }

        if (text is null)
        {
            return DrfErrors.Fields(errors);
        }

        if (text.Length > ChatMessageService.MaxMessageLength)
        {
            // The original answered this one case with a bare list; the web client reads it that way.
            return TypedResults.BadRequest(new[] { $"Ensure this field has no more than {ChatMessageService.MaxMessageLength} characters." });
        }

        var caller = new UserSummary(http.User.UserId(), http.User.Username());
        var sent = await messages.SendAsync(chatId, caller.Id, caller.Username, text, cancellationToken, clientMessageId);
        if (sent is null)
        {
            return DrfErrors.NotFound();
        }

        MarkReplayed(http, sent);
        // Committed: from here on the answer is a success, however much of the chat can still be read.
        return new ChatDetailResult(await answer.ComposeAsync(
            chatId, caller, sent, ct => DetailAfterSendAsync(sent, caller, store, messages, ct), cancellationToken));
    }

    /// <summary>The chat as GET shows it, as the send left it: its members and messages up to the one just sent.</summary>
    private static async Task<ChatDetailResponse?> DetailAfterSendAsync(
        SendReceipt sent, UserSummary caller, ChatStore store, ChatMessageService messages, CancellationToken cancellationToken)
    {
        var members = sent.Members ?? await store.MembersAsync(sent.ChatId, cancellationToken);
        var window = await messages.ReadUpToAsync(sent, caller.Id, DefaultWindow, cancellationToken);
        return new ChatDetailResponse(
            sent.ChatId,
            sent.ChatCreated,
            sent.Message.Datetime,
            [.. members.Select(m => new UserSummary(m.Id, m.Username))],
            new MessageListResponse([.. window.Flushed.Select(MessageResponse.From)]),
            new MessageListResponse([.. window.Pending.Select(MessageResponse.From)]));
    }

    private static async Task<Results<Created<MessageWithSeqResponse>, NotFound<DetailBody>, BadRequest<Dictionary<string, string[]>>, BadRequest<DetailBody>>> SendMessageAsync(
        string id, SendMessageRequest? body, HttpContext http, ChatStore store, ChatMessageService messages, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var chatId))
        {
            return DrfErrors.NotFound();
        }

        if (!TryClientMessageId(http.Request, out var clientMessageId))
        {
            return InvalidIdempotencyKey();
        }

        var errors = new FieldErrors();
        var text = errors.RequireText("message", body?.Message);
        if (text is not null && text.Length > ChatMessageService.MaxMessageLength)
        {
            errors.Add("message", $"Ensure this field has no more than {ChatMessageService.MaxMessageLength} characters.");
        }

        if (text is null || errors.Any)
        {
            return await store.FindForMemberAsync(chatId, http.User.UserId(), cancellationToken) is null
                ? DrfErrors.NotFound()
                : DrfErrors.Fields(errors);
        }

        var receipt = await messages.SendAsync(chatId, http.User.UserId(), http.User.Username(), text, cancellationToken, clientMessageId);
        MarkReplayed(http, receipt);
        var sent = receipt?.Message;
        return sent is null
            ? DrfErrors.NotFound()
            : TypedResults.Created($"/api/v1/chat/{chatId}/messages/?before={sent.Seq + 1}&limit=1", MessageWithSeqResponse.From(sent));
    }

    private static async Task<Results<Ok<HistoryResponse>, NotFound<DetailBody>, BadRequest<Dictionary<string, string[]>>>> GetHistoryAsync(
        string id, long? before, int? limit, HttpContext http, ChatStore store, ChatMessageService messages, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var chatId))
        {
            return DrfErrors.NotFound();
        }

        if (limit is < 1 or > MaxWindow)
        {
            return DrfErrors.Field("limit", $"Ensure this value is between 1 and {MaxWindow}.");
        }

        if (before is < 1)
        {
            return DrfErrors.Field("before", "Ensure this value is greater than or equal to 1.");
        }

        var chat = await store.FindForMemberAsync(chatId, http.User.UserId(), cancellationToken);
        if (chat is null)
        {
            return DrfErrors.NotFound();
        }

        var window = await messages.ReadAsync(chat, http.User.UserId(), before ?? long.MaxValue, limit ?? DefaultHistoryPage, cancellationToken);
        var all = window.Flushed.Concat(window.Pending).Select(MessageWithSeqResponse.From).ToList();
        return TypedResults.Ok(new HistoryResponse(all, window.HasMore));
    }

    private static async Task<Results<NoContent, NotFound<DetailBody>>> LeaveChatAsync(
        string id, HttpContext http, ChatMessageService messages, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var chatId) || !await messages.LeaveAsync(chatId, http.User.UserId(), http.User.Username(), cancellationToken))
        {
            return DrfErrors.NotFound();
        }

        return TypedResults.NoContent();
    }

    /// <summary>False when the request carries an Idempotency-Key that is no valid client message id.</summary>
    private static bool TryClientMessageId(HttpRequest request, out string? clientMessageId)
    {
        clientMessageId = null;
        if (!request.Headers.TryGetValue(IdempotencyKeyHeader, out var values))
        {
            return true;
        }

        clientMessageId = values.Count == 1 ? values[0] : null;
        return clientMessageId is not null && ClientMessageIds.IsValid(clientMessageId);
    }

    private static BadRequest<DetailBody> InvalidIdempotencyKey() =>
        TypedResults.BadRequest(DrfErrors.Detail($"{IdempotencyKeyHeader}: {ClientMessageIds.Invalid}"));

    private static void MarkReplayed(HttpContext http, SendReceipt? receipt)
    {
        if (receipt is { Repeated: true })
        {
            http.Response.Headers[ReplayedHeader] = "true";
        }
    }

    private static async Task<ChatDetailResponse?> DetailAsync(
        Guid chatId, Guid userId, int limit, ChatStore store, ChatMessageService messages, CancellationToken cancellationToken)
    {
        var chat = await store.FindForMemberAsync(chatId, userId, cancellationToken);
        if (chat is null)
        {
            return null;
        }

        var members = await store.MembersAsync(chatId, cancellationToken);
        var window = await messages.ReadAsync(chat, userId, long.MaxValue, limit, cancellationToken);
        return new ChatDetailResponse(
            chat.Id,
            chat.Created,
            chat.Updated,
            [.. members.Select(m => new UserSummary(m.Id, m.Username))],
            new MessageListResponse([.. window.Flushed.Select(MessageResponse.From)]),
            new MessageListResponse([.. window.Pending.Select(MessageResponse.From)]));
    }
}

internal sealed record CreateChatRequest(string? Owner);

internal sealed record PatchChatRequest(string? NewMessage);

internal sealed record SendMessageRequest(string? Message);

internal sealed record ChatSummaryResponse(Guid Id, DateTime Created, DateTime Updated, Guid[] Owner);

/// <summary>A chat of GET /api/v1/chat/: the summary, and (added for real-time clients) the caller's unread count and the last seq.</summary>
internal sealed record ChatListItemResponse(Guid Id, DateTime Created, DateTime Updated, Guid[] Owner, long Unread, long LastMessageSeq);

internal sealed record ChatDetailResponse(
    Guid Id, DateTime Created, DateTime Updated, IReadOnlyList<UserSummary> Owner, MessageListResponse MessageData, MessageListResponse CacheMessages);

internal sealed record MessageListResponse(IReadOnlyList<MessageResponse> Messages);

internal sealed record MessageResponse(DateTime Datetime, string User, string Message)
{
    /// <summary>The stored message this shows, when there is one: its JSON is encoded once (<see cref="ChatDetailResult"/>).</summary>
    internal SentMessage? Source { get; private init; }

    public static MessageResponse From(SentMessage m) => new(m.Datetime, m.User, m.Message) { Source = m };

    // What the answer says, not where it came from.
    public bool Equals(MessageResponse? other) =>
        other is not null && Datetime == other.Datetime && User == other.User && Message == other.Message;

    public override int GetHashCode() => HashCode.Combine(Datetime, User, Message);
}

internal sealed record MessageWithSeqResponse(long Seq, DateTime Datetime, string User, string Message)
{
    public static MessageWithSeqResponse From(SentMessage m) => new(m.Seq, m.Datetime, m.User, m.Message);
}

internal sealed record HistoryResponse(IReadOnlyList<MessageWithSeqResponse> Messages, bool HasMore);
