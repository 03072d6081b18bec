namespace SitMessenger.Api.RealTime;

// What the chat hub sends and takes, in the REST API's snake_case. Events are named by ChatEventNames.

/// <summary>Event names the hub sends (clients register handlers under these).</summary>
internal static class ChatEventNames
{
    public const string Message = "message";
    public const string Typing = "typing";
    public const string Read = "read";
    public const string Chat = "chat";

    /// <summary>
    /// Sent to a new connection once it is in place: from then on it hears every event of its user's chats. (The
    /// SignalR handshake completes a moment before that, so events between the two would be missed.)
    /// </summary>
    public const string Ready = "ready";
}

internal sealed record ReadyEvent(Guid UserId);

/// <summary>
/// A stored message, pushed to every member once. <c>message</c> is null when the server keeps text out of its
/// events (RealTime:TextInEvents=false): read it with CatchUp.
/// </summary>
internal sealed record MessageEvent(Guid ChatId, long Seq, DateTime Datetime, string User, Guid? UserId, string? Message);

/// <summary>A member is typing in a chat; show it for <c>expires_in_ms</c> unless it comes again.</summary>
internal sealed record TypingEvent(Guid ChatId, string User, Guid UserId, int ExpiresInMs);

/// <summary>A member has read a chat up to <c>seq</c>.</summary>
internal sealed record ReadEvent(Guid ChatId, string User, Guid UserId, long Seq);

/// <summary>The receiver's membership changed: <c>added</c> (a new chat), <c>removed</c> (they left), <c>deleted</c> (gone for all).</summary>
internal sealed record ChatEvent(Guid ChatId, string Kind, long LastSeq);

internal static class ChatEventKinds
{
    public const string Added = "added";
    public const string Removed = "removed";
    public const string Deleted = "deleted";
}

/// <summary>The hub's Send: <c>client_message_id</c> (1..100 visible ASCII characters) makes a retry safe.</summary>
internal sealed record HubSendRequest(Guid ChatId, string? Message, string? ClientMessageId);

/// <summary>The message as stored (for a repeated client message id: as the first send stored it).</summary>
internal sealed record HubSendResult(Guid ChatId, long Seq, DateTime Datetime, string User, string Message, bool Repeated);

internal sealed record HubReadRequest(Guid ChatId, long Seq);

internal sealed record HubReadResult(Guid ChatId, long ReadSeq);

/// <summary>Messages after <c>after_seq</c>, oldest first, at most <c>limit</c> (default and most: RealTime:MaxCatchUp).</summary>
internal sealed record HubCatchUpRequest(Guid ChatId, long AfterSeq, int? Limit);

internal sealed record CatchUpMessage(long Seq, DateTime Datetime, string User, string Message);

internal sealed record HubCatchUpResult(Guid ChatId, IReadOnlyList<CatchUpMessage> Messages, bool HasMore, long LastSeq);
