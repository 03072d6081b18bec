using System.Collections.Concurrent;

namespace SitMessenger.Api.RealTime;

/// <summary>
/// How many hub connections each user holds on this replica, to refuse one past RealTime:ConnectionsPerUser. Counted
/// per replica (no shared state to leak when a replica dies), so a user holds at most that many times the replicas.
/// </summary>
internal sealed class HubConnections
{
    private readonly ConcurrentDictionary<Guid, int> _perUser = new();
    private int _total;

    public int Total => Volatile.Read(ref _total);

    public int Count(Guid userId) => _perUser.GetValueOrDefault(userId);

    public bool TryAdd(Guid userId, int limit)
    {
        while (true)
        {
            var current = _perUser.GetValueOrDefault(userId);
            if (current >= limit)
            {
                return false;
            }

            var updated = current == 0 ? _perUser.TryAdd(userId, 1) : _perUser.TryUpdate(userId, current + 1, current);
            if (updated)
            {
                Interlocked.Increment(ref _total);
                return true;
            }
        }
    }

    public void Remove(Guid userId)
    {
        while (_perUser.TryGetValue(userId, out var current))
        {
            var updated = current <= 1
                ? _perUser.TryRemove(new KeyValuePair<Guid, int>(userId, current))
                : _perUser.TryUpdate(userId, current - 1, current);
            if (updated)
            {
                Interlocked.Decrement(ref _total);
                return;
            }
        }
    }
}

/// <summary>
/// One connection's send and typing budget: a fixed window each, counted without a timer, so an idle connection
/// costs a few bytes. Used from one hub call at a time per connection, but locked anyway: a client may stream calls.
/// </summary>
internal sealed class ConnectionQuota(int sends, int typing, TimeSpan window)
{
    private readonly Lock _gate = new();
    private DateTimeOffset _windowStart;
    private int _sends;
    private int _typing;

    /// <summary>Null when allowed; else how long until the window opens again.</summary>
    public TimeSpan? TakeSend(DateTimeOffset now) => Take(now, isSend: true);

    public TimeSpan? TakeTyping(DateTimeOffset now) => Take(now, isSend: false);

    private TimeSpan? Take(DateTimeOffset now, bool isSend)
    {
        lock (_gate)
        {
            if (now - _windowStart >= window)
            {
                (_windowStart, _sends, _typing) = (now, 0, 0);
            }

            ref var used = ref isSend ? ref _sends : ref _typing;
            if (used >= (isSend ? sends : typing))
            {
                return _windowStart + window - now;
            }

            used++;
            return null;
        }
    }
}
