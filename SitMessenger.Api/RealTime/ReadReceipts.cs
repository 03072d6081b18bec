using SitMessenger.Chat.Storage;

namespace SitMessenger.Api.RealTime;

/// <summary>The outcome of marking a chat read: done (with the mark), not the caller's chat, or a seq past its last message.</summary>
internal sealed record ReadOutcome(long? ReadSeq, bool NotFound, long LastSeq);

/// <summary>Read marks, from REST and from the hub alike: stored, then told to every member (the reader's other devices too).</summary>
internal sealed class ReadReceipts(ChatStore store, ChatEventPublisher events)
{
    public async Task<ReadOutcome> MarkAsync(Guid chatId, Guid userId, string username, long seq, CancellationToken cancellationToken)
    {
        var mark = await store.MarkReadAsync(chatId, userId, seq, cancellationToken);
        if (mark is null)
        {
            return new ReadOutcome(null, NotFound: true, 0);
        }

        if (seq > mark.LastSeq)
        {
            return new ReadOutcome(null, NotFound: false, mark.LastSeq);
        }

        await events.SendAsync(mark.Members, ChatEventNames.Read, new ReadEvent(chatId, username, userId, mark.ReadSeq));
        return new ReadOutcome(mark.ReadSeq, NotFound: false, mark.LastSeq);
    }

    public static string PastLastSeq(long lastSeq) =>
        $"Ensure this value is less than or equal to {lastSeq}, the chat's last message.";
}
