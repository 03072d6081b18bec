using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using SitMessenger.Chat.Messaging;
using StackExchange.Redis;

namespace SitMessenger.Api.Chats;

/// <summary>
/// Schedules "flush chat X in N seconds" once per chat per flush delay (what the original's Celery countdown and task
/// id did), off the send path: a send only drops the chat id in a queue. Publishing is best-effort by design: the
/// message is already durable in PostgreSQL, and the Scheduler's sweep flushes any chat whose job was lost.
/// </summary>
internal sealed partial class ChatFlushRequests(
    IConnectionMultiplexer redis,
    JobPublisher publisher,
    IOptions<FlushOptions> options,
    TimeProvider time,
    ILogger<ChatFlushRequests> logger) : BackgroundService
{
    private readonly Channel<(Guid ChatId, ActivityContext Trace)> _requests = Channel.CreateBounded<(Guid, ActivityContext)>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    // Chats this instance scheduled recently: most sends skip even the Redis round trip.
    private readonly ConcurrentDictionary<Guid, long> _recentlyScheduled = new();

    public void Request(Guid chatId)
    {
        var now = time.GetTimestamp();
        if (_recentlyScheduled.TryGetValue(chatId, out var until) && now < until)
        {
            return;
        }

        // The send's trace goes with the request, so the flush it causes shows in the same trace.
        _requests.Writer.TryWrite((chatId, Activity.Current?.Context ?? default));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = options.Value.Delay;
        await foreach (var (chatId, trace) in _requests.Reader.ReadAllAsync(stoppingToken))
        {
            if (_recentlyScheduled.TryGetValue(chatId, out var until) && time.GetTimestamp() < until)
            {
                continue;
            }

            if (!await ClaimAsync(chatId, delay))
            {
                continue;
            }

            try
            {
                using var activity = JobPublisher.Source.StartActivity("flush-chat schedule", ActivityKind.Producer, trace);
                await publisher.PublishAsync(JobEnvelope.Create(JobTypes.FlushChat, chatId, time), JobQueues.Flush, delay, stoppingToken);
                _recentlyScheduled[chatId] = time.GetTimestamp() + (long)(delay.TotalSeconds * time.TimestampFrequency);
                Prune();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Let the next send try again; meanwhile the sweep covers this chat.
                await ReleaseAsync(chatId);
                LogPublishFailed(logger, ex);
            }
        }
    }

    /// <summary>True if no other Api instance has a flush of this chat on its way (or Redis cannot say).</summary>
    private async Task<bool> ClaimAsync(Guid chatId, TimeSpan delay)
    {
        try
        {
            // Outlives the delay: the Worker deletes it when the flush starts, whichever comes first.
            return await redis.GetDatabase().StringSetAsync(FlushOptions.PendingKey(chatId), "1", delay * 2, When.NotExists);
        }
        catch (RedisException)
        {
            return true;
        }
    }

    private async Task ReleaseAsync(Guid chatId)
    {
        try
        {
            await redis.GetDatabase().KeyDeleteAsync(FlushOptions.PendingKey(chatId));
        }
        catch (RedisException)
        {
        }
    }

    private void Prune()
    {
        if (_recentlyScheduled.Count < 50_000)
        {
            return;
        }

        var now = time.GetTimestamp();
        foreach (var (chatId, until) in _recentlyScheduled)
        {
            if (until < now)
            {
                _recentlyScheduled.TryRemove(chatId, out _);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not queue a flush job (RabbitMQ unavailable?); the Scheduler's sweep will flush the chat")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception);
}
