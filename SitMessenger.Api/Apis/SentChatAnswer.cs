using SitMessenger.Api.Chats;
using SitMessenger.Chat.Accounts;

namespace SitMessenger.Api.Apis;

/// <summary>
/// The answer to PATCH /api/v1/chat/{id}/ once its message committed. Reading the chat back is a second step that can
/// fail on its own (PostgreSQL, Redis or a segment file gone in between); answering that failure with the 503
/// "nothing was saved" would make the client send the message again and store it twice. So after a commit the
/// answer is always the success: the chat as read back when that works, else what the send itself knows.
/// </summary>
internal sealed partial class SentChatAnswer(ILogger<SentChatAnswer> logger)
{
    /// <param name="readBack">The chat as GET shows it, or null when the sender is no longer a member.</param>
    public async Task<ChatDetailResponse> ComposeAsync(
        Guid chatId, UserSummary sender, SendReceipt sent, Func<CancellationToken, Task<ChatDetailResponse?>> readBack, CancellationToken cancellationToken)
    {
        try
        {
            if (await readBack(cancellationToken) is { } detail)
            {
                return detail;
            }

            LogNotReadBack(logger, chatId, sent.Message.Seq, null);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogNotReadBack(logger, chatId, sent.Message.Seq, ex);
        }

        return FromSend(chatId, sender, sent);
    }

    /// <summary>
    /// The chat as far as the send knows it: its new message (pending, so under cache_messages) and its sender. The
    /// other members and earlier messages are missing; the next GET shows them.
    /// </summary>
    public static ChatDetailResponse FromSend(Guid chatId, UserSummary sender, SendReceipt sent) => new(
        chatId,
        sent.ChatCreated,
        sent.Message.Datetime,
        [sender],
        new MessageListResponse([]),
        new MessageListResponse([MessageResponse.From(sent.Message)]));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat {ChatId}: message {Seq} is saved but the chat could not be read back; answered with the message alone")]
    private static partial void LogNotReadBack(ILogger logger, Guid chatId, long seq, Exception? exception);
}
