using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace SitMessenger.Api.RealTime;

/// <summary>
/// Publishes each chat's events in seq order across Api replicas. PostgreSQL gives out a chat's seqs in commit order,
/// but two sends that commit seq 5 and 6 a moment apart (on one replica or two) may reach Redis in the other order.
/// So the event for seq N goes out only once seq N-1 has: a publish on this replica wakes the next one at once; one
/// on another replica is seen from a per-chat mark in Redis that every replica raises after publishing (polled every
/// millisecond while waiting). It never waits long (<see cref="RealTimeOptions.OrderWait"/>): a replica that died
/// between commit and publish must not hold a chat up, and clients fill such a gap with CatchUp. While Redis is down
/// nothing crosses replicas anyway, and only this replica's own order is kept.
/// </summary>
internal sealed partial class ChatEventSequencer(
    IConnectionMultiplexer redis, IOptions<RealTimeOptions> options, TimeProvider time, ILogger<ChatEventSequencer> logger)
{
    // Past this many chats the local marks start over: they only save waiting, the Redis marks are the record.
    private const int MaxLocalMarks = 50_000;

    private static readonly TimeSpan MarkLifetime = TimeSpan.FromDays(1);
    private static readonly TimeSpan RemotePoll = TimeSpan.FromMilliseconds(1);

    // Raises the mark, never lowers it: a late publisher of an older seq must not make later ones wait again.
    private const string RaiseMark =
        """
        local current = tonumber(redis.call('GET', KEYS[1]) or '0')
        if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
        return 1
        """;

    private readonly ConcurrentDictionary<Guid, ChatMark> _marks = new();

    private static RedisKey Key(Guid chatId) => $"sit:rt:published:{chatId:N}";

    /// <summary>Runs <paramref name="publish"/> once seq - 1 of the chat is out (or the wait is over), then marks seq out (also when it threw).</summary>
    public async Task RunInOrderAsync(Guid chatId, long seq, Func<Task> publish)
    {
        var mark = Mark(chatId);
        mark.Starting(seq);
        try
        {
            await WaitForPredecessorAsync(chatId, seq, mark);
            await publish();
        }
        finally
        {
            // Out or failed, the next seq must not wait for it any longer.
            mark.Published(seq);
            await RaiseRemoteMarkAsync(chatId, seq);
        }
    }

    /// <summary>Marks seq of the chat out without an event.</summary>
    public Task MarkAsync(Guid chatId, long seq)
    {
        Mark(chatId).Published(seq);
        return RaiseRemoteMarkAsync(chatId, seq);
    }

    private ChatMark Mark(Guid chatId)
    {
        if (_marks.Count > MaxLocalMarks)
        {
            _marks.Clear();
        }

        return _marks.GetOrAdd(chatId, _ => new ChatMark());
    }

    private async Task WaitForPredecessorAsync(Guid chatId, long seq, ChatMark mark)
    {
        var deadline = time.GetUtcNow() + options.Value.OrderWait;
        while (!mark.IsOut(seq - 1))
        {
            var remaining = deadline - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                LogGaveUpWaiting(logger, chatId, seq);
                return;
            }

            if (mark.IsInFlightHere(seq - 1))
            {
                // Its publish runs here: it wakes us when done.
                await mark.WaitAsync(seq - 1, remaining);
                continue;
            }

            // Sent through another replica (or not begun here yet): its mark in Redis says when it is out.
            if (await RemoteMarkAsync(chatId) is not { } remote)
            {
                return;
            }

            mark.Published(remote);
            if (remote < seq - 1)
            {
                await mark.WaitAsync(seq - 1, RemotePoll);
            }
        }
    }

    /// <summary>The chat's mark in Redis; null when there is none (no one published in it for a day, Redis lost its data) or Redis is down: nothing to wait for.</summary>
    private async Task<long?> RemoteMarkAsync(Guid chatId)
    {
        if (!redis.IsConnected)
        {
            return null;
        }

        try
        {
            var remote = await redis.GetDatabase().StringGetAsync(Key(chatId));
            return remote.IsNull ? null : (long)remote;
        }
        catch (RedisException)
        {
            return null;
        }
    }

    private Task RaiseRemoteMarkAsync(Guid chatId, long seq)
    {
        if (!redis.IsConnected)
        {
            return Task.CompletedTask;
        }

        try
        {
            // Sent after the publish was acknowledged, so no replica can see the mark before Redis has the event.
            return redis.GetDatabase().ScriptEvaluateAsync(
                RaiseMark, [Key(chatId)], [seq, (long)MarkLifetime.TotalMilliseconds], CommandFlags.FireAndForget);
        }
        catch (RedisException)
        {
            return Task.CompletedTask;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat {ChatId}: seq {Seq} published without its predecessor (not out in time)")]
    private static partial void LogGaveUpWaiting(ILogger logger, Guid chatId, long seq);

    /// <summary>One chat's order on this replica: the highest seq known to be out, the seqs being published here, and who waits.</summary>
    private sealed class ChatMark
    {
        private readonly Lock _gate = new();
        private readonly HashSet<long> _inFlight = [];
        private readonly List<(long Seq, TaskCompletionSource Done)> _waiters = [];
        private long _published;

        public bool IsOut(long seq)
        {
            lock (_gate)
            {
                return _published >= seq;
            }
        }

        public bool IsInFlightHere(long seq)
        {
            lock (_gate)
            {
                return _inFlight.Contains(seq);
            }
        }

        public void Starting(long seq)
        {
            lock (_gate)
            {
                _inFlight.Add(seq);
            }
        }

        public void Published(long seq)
        {
            List<TaskCompletionSource>? wake = null;
            lock (_gate)
            {
                _inFlight.Remove(seq);
                if (seq <= _published)
                {
                    return;
                }

                _published = seq;
                for (var i = _waiters.Count - 1; i >= 0; i--)
                {
                    if (_waiters[i].Seq <= seq)
                    {
                        (wake ??= []).Add(_waiters[i].Done);
                        _waiters.RemoveAt(i);
                    }
                }
            }

            wake?.ForEach(w => w.TrySetResult());
        }

        /// <summary>Until seq is out here, or the timeout.</summary>
        public async Task WaitAsync(long seq, TimeSpan timeout)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_gate)
            {
                if (_published >= seq)
                {
                    return;
                }

                _waiters.Add((seq, done));
            }

            if (await Task.WhenAny(done.Task, Task.Delay(timeout)) != done.Task)
            {
                lock (_gate)
                {
                    _waiters.RemoveAll(w => w.Done == done);
                }
            }
        }
    }
}
