using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using SitMessenger.Api.Chats;

namespace SitMessenger.Api.RealTime;

/// <summary>
/// Tells the members of a chat what happened in it, through the hub (and the Redis backplane, so whichever replica
/// holds a member's connections delivers). Every connection is in its user's group, and each event goes to the
/// groups of the chat's members as the database named them in the same statement that changed the chat: a member
/// added hears the very next event, one removed hears nothing after the event saying so.
/// Called after the change committed; it never fails or delays the change it reports.
/// </summary>
internal sealed partial class ChatEventPublisher(
    IHubContext<ChatHub> hub, ChatEventSequencer sequencer, IOptions<RealTimeOptions> options, ILogger<ChatEventPublisher> logger)
{
    public static string UserGroup(Guid userId) => $"user:{userId:N}";

    /// <summary>A new chat: each member hears <c>chat</c> "added"; its first line needs no event.</summary>
    public void ChatCreated(Guid chatId, IReadOnlyCollection<Guid> members) =>
        Run(chatId, 1, () => SendAsync(members, ChatEventNames.Chat, new ChatEvent(chatId, ChatEventKinds.Added, 1)));

    /// <summary>A stored message (sent through REST or the hub), to every member, in seq order per chat.</summary>
    public void MessageStored(Guid chatId, SentMessage message, Guid? senderId, IReadOnlyCollection<Guid> members)
    {
        var text = options.Value.TextInEvents ? message.Message : null;
        var payload = new MessageEvent(chatId, message.Seq, message.Datetime, message.User, senderId, text);
        Run(chatId, message.Seq, () => SendAsync(members, ChatEventNames.Message, payload));
    }

    /// <summary>
    /// A member left: the others get the "left" line as a message, the leaver <c>chat</c> "removed", in the chat's
    /// order; when the leaver was the last member the chat is gone and they hear "deleted".
    /// </summary>
    public void MemberLeft(Guid chatId, Guid leaver, SentMessage? leftLine, IReadOnlyCollection<Guid> remaining)
    {
        if (leftLine is null)
        {
            Run(chatId, 0, () => SendAsync([leaver], ChatEventNames.Chat, new ChatEvent(chatId, ChatEventKinds.Deleted, 0)));
            return;
        }

        var line = new MessageEvent(chatId, leftLine.Seq, leftLine.Datetime, leftLine.User, null, options.Value.TextInEvents ? leftLine.Message : null);
        Run(chatId, leftLine.Seq, async () =>
        {
            await SendAsync([leaver], ChatEventNames.Chat, new ChatEvent(chatId, ChatEventKinds.Removed, leftLine.Seq));
            await SendAsync(remaining, ChatEventNames.Message, line);
        });
    }

    /// <summary>Typing and read receipts are not ordered with messages: they say nothing a later message depends on.</summary>
    public Task SendAsync(IReadOnlyCollection<Guid> users, string eventName, object payload) =>
        users.Count == 0 ? Task.CompletedTask : hub.Clients.Groups([.. users.Select(UserGroup)]).SendAsync(eventName, payload);

    private void Run(Guid chatId, long seq, Func<Task> publish) =>
        // Not awaited: the sender's answer does not wait for delivery. The sequencer logs what fails.
        _ = RunLoggedAsync(chatId, seq, publish);

    private async Task RunLoggedAsync(Guid chatId, long seq, Func<Task> publish)
    {
        try
        {
            if (seq <= 0)
            {
                await publish();
            }
            else
            {
                await sequencer.RunInOrderAsync(chatId, seq, publish);
            }
        }
#pragma warning disable CA1031 // A background publish must never take the process down; what failed is logged by id.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogFailed(logger, chatId, seq, e.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat {ChatId}: event for seq {Seq} not delivered ({Error})")]
    private static partial void LogFailed(ILogger logger, Guid chatId, long seq, string error);
}
