using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace SitMessenger.Api.RealTime;

/// <summary>
/// Publishes each chat's events in seq order across Api replicas. PostgreSQL gives out a chat's seqs in commit order,
/// but two replicas that commit seq 5 and 6 a moment apart may reach Redis in the other order. So the event for seq
/// N waits until seq N-1 has gone out: known here when this replica published it, else from a per-chat mark in Redis
/// that every replica raises after publishing. It never waits long (<see cref="RealTimeOptions.OrderWait"/>): a
/// replica that died between commit and publish must not hold a chat up, and clients fill such a gap with CatchUp.
/// When Redis is down nothing can be published anyway, so nothing waits.
/// </summary>
internal sealed partial class ChatEventSequencer(
    IConnectionMultiplexer redis, IOptions<RealTimeOptions> options, TimeProvider time, ILogger<ChatEventSequencer> logger)
{
    // Past this many chats the local marks start over: they only save Redis reads, the Redis marks are the record.
    private const int MaxLocalMarks = 50_000;

    private static readonly TimeSpan MarkLifetime = TimeSpan.FromDays(1);

    // Raises the mark, never lowers it: a late publisher of an older seq must not make later ones wait again.
    private const string RaiseMark =
        """
        local current = tonumber(redis.call('GET', KEYS[1]) or '0')
        if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
        return 1
        """;

    private readonly ConcurrentDictionary<Guid, long> _published = new();

    private static RedisKey Key(Guid chatId) => $"sit:rt:published:{chatId:N}";

    /// <summary>Runs <paramref name="publish"/> once seq - 1 of the chat is out (or the wait is over), then marks seq out (also when it threw).</summary>
    public async Task RunInOrderAsync(Guid chatId, long seq, Func<Task> publish)
    {
        var deadline = time.GetUtcNow() + options.Value.OrderWait;
        while (!await PreviousIsOutAsync(chatId, seq))
        {
            if (time.GetUtcNow() >= deadline)
            {
                LogGaveUpWaiting(logger, chatId, seq);
                break;
            }

            await Task.Delay(1);
        }

        try
        {
            await publish();
        }
        finally
        {
            // Out or failed, the next seq must not wait for it any longer.
            await MarkAsync(chatId, seq);
        }
    }

    /// <summary>Marks seq of the chat out without an event (a chat's first line, which no one is told about).</summary>
    public Task MarkAsync(Guid chatId, long seq)
    {
        if (_published.Count > MaxLocalMarks)
        {
            _published.Clear();
        }

        _published.AddOrUpdate(chatId, seq, (_, current) => Math.Max(current, seq));
        if (!redis.IsConnected)
        {
            return Task.CompletedTask;
        }

        try
        {
            return redis.GetDatabase().ScriptEvaluateAsync(
                RaiseMark, [Key(chatId)], [seq, (long)MarkLifetime.TotalMilliseconds], CommandFlags.FireAndForget);
        }
        catch (RedisException)
        {
            return Task.CompletedTask;
        }
    }

    private async Task<bool> PreviousIsOutAsync(Guid chatId, long seq)
    {
        if (_published.TryGetValue(chatId, out var local) && local >= seq - 1)
        {
            return true;
        }

        if (!redis.IsConnected)
        {
            return true;
        }

        try
        {
            var remote = await redis.GetDatabase().StringGetAsync(Key(chatId));
            // No mark: a chat no one has published in for a day, or Redis lost its data. Nothing to wait for.
            return remote.IsNull || (long)remote >= seq - 1;
        }
        catch (RedisException)
        {
            return true;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat {ChatId}: seq {Seq} published without its predecessor (not out in time)")]
    private static partial void LogGaveUpWaiting(ILogger logger, Guid chatId, long seq);
}
