using Microsoft.Extensions.Options;
using SitMessenger.Chat.Messages;
using SitMessenger.Chat.Messaging;
using SitMessenger.Chat.Storage;
using SitMessenger.Worker.Jobs;
using StackExchange.Redis;

namespace SitMessenger.Worker.Flushing;

/// <summary>
/// Moves a chat's pending messages into a new immutable segment file. Order of events makes any crash harmless:
/// the file is written and fsynced first (a crash leaves only an orphan file, removed later); then one transaction
/// records the segment, deletes the rows it holds and advances the chat's flushed mark (a crash before it changes
/// nothing; after it, a redelivered job finds nothing left to move). Ciphertexts are copied as they are.
/// </summary>
internal sealed partial class ChatFlusher(
    ChatSegmentCatalog catalog,
    ISegmentStore segments,
    IConnectionMultiplexer redis,
    IOptions<SegmentPolicy> policy,
    TimeProvider time,
    ILogger<ChatFlusher> logger) : IJobHandler
{
    public string JobType => JobTypes.FlushChat;

    public async Task<string> RunAsync(JobEnvelope job, CancellationToken cancellationToken)
    {
        var chatId = job.ChatId ?? throw new InvalidOperationException("a flush job needs a chat id");

        // From here on a new message must schedule a new flush: this one may already have read past it.
        await ForgetScheduledFlushAsync(chatId);

        await using var flush = await catalog.TryBeginFlushAsync(chatId, cancellationToken);
        if (flush is null)
        {
            return "another worker is flushing this chat";
        }

        var moved = 0;
        while (await FlushBatchAsync(flush, chatId, cancellationToken) is var count and > 0)
        {
            moved += count;
            if (count < policy.Value.MaxMessagesPerSegment)
            {
                break;
            }
        }

        return $"moved {moved} messages";
    }

    private async Task<int> FlushBatchAsync(ChatFlush flush, Guid chatId, CancellationToken cancellationToken)
    {
        var batch = await flush.ReadNextAsync(policy.Value.MaxMessagesPerSegment, cancellationToken);
        if (batch is null)
        {
            return 0;
        }

        var file = SegmentFormat.Write(chatId, batch.KeyId, batch.Messages);
        var location = await segments.WriteAsync(chatId, batch.FirstSeq, batch.LastSeq, file, cancellationToken);
        var change = await flush.RecordAsync(
            batch, new NewSegment(batch.FirstSeq, batch.LastSeq, location, batch.KeyId, SegmentFormat.Hash(file), time.GetUtcNow()), cancellationToken);
        if (change != SegmentChange.Recorded)
        {
            // The chat was deleted, or someone else moved these rows, while the file was written: keep nothing of ours.
            await segments.DeleteAsync(location, cancellationToken);
            if (change == SegmentChange.Conflict)
            {
                LogConflict(logger, chatId);
            }

            return 0;
        }

        TrimCache(chatId, batch.LastSeq);
        LogFlushed(logger, batch.Messages.Count, chatId, batch.FirstSeq, batch.LastSeq);
        return batch.Messages.Count;
    }

    private async Task ForgetScheduledFlushAsync(Guid chatId)
    {
        try
        {
            await redis.GetDatabase().KeyDeleteAsync(FlushOptions.PendingKey(chatId));
        }
        catch (RedisException)
        {
            // Without Redis the Api publishes a flush for every burst anyway.
        }
    }

    private void TrimCache(Guid chatId, long lastFlushed)
    {
        if (redis.IsConnected)
        {
            redis.GetDatabase().SortedSetRemoveRangeByScore(ChatCacheKeys.Pending(chatId), double.NegativeInfinity, lastFlushed, flags: CommandFlags.FireAndForget);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Moved {Count} messages of chat {ChatId} ({First}..{Last}) into a segment")]
    private static partial void LogFlushed(ILogger logger, int count, Guid chatId, long first, long last);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat {ChatId} changed during its flush (deleted, or flushed elsewhere); this flush was discarded")]
    private static partial void LogConflict(ILogger logger, Guid chatId);
}
