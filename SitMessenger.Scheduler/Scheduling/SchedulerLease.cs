using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace SitMessenger.Scheduler.Scheduling;

/// <summary>
/// Leader election among Scheduler replicas through one Redis key that expires unless its holder renews it.
/// Leadership is also bounded locally: it ends when the lease would have expired since the last successful renewal,
/// even if Redis never answers, so a cut-off leader stops publishing before a follower can take over.
/// </summary>
internal sealed partial class SchedulerLease
{
    public const string LeaderKey = "scheduler:leader";

    // Compare-and-act, atomically: a leader whose lease lapsed must not extend or delete its successor's.
    private const string RenewScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
            return redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        return 0
        """;

    private const string ReleaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
            return redis.call('DEL', KEYS[1])
        end
        return 0
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly TimeProvider _time;
    private readonly ILogger<SchedulerLease> _logger;
    private readonly TimeSpan _lease;
    private readonly long _leaseTimestampTicks;

    /// <summary>TimeProvider timestamp until which we lead; read by the scheduling loop, the API and the gauge.</summary>
    private long _leaderUntil = long.MinValue;

    // Only the election loop touches these; they exist to log changes rather than every round.
    private bool _holding;
    private string? _lastSeenLeader;
    private bool _redisDown;

    public SchedulerLease(IConnectionMultiplexer redis, IOptions<SchedulerOptions> options, TimeProvider time, ILogger<SchedulerLease> logger)
        : this(redis, options, time, logger, NewInstanceId())
    {
    }

    /// <summary>With a chosen id, so a test can run several "replicas" in one process.</summary>
    public SchedulerLease(IConnectionMultiplexer redis, IOptions<SchedulerOptions> options, TimeProvider time, ILogger<SchedulerLease> logger, string instanceId)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        _redis = redis;
        _time = time;
        _logger = logger;
        _lease = options.Value.LeaseDuration;
        _leaseTimestampTicks = (long)(_lease.TotalSeconds * time.TimestampFrequency);
        InstanceId = instanceId;
    }

    /// <summary>Unique per process, and readable: the machine says where the leader runs.</summary>
    public static string NewInstanceId() => $"{Environment.MachineName}:{Guid.NewGuid():N}";

    public string InstanceId { get; }

    public bool IsLeader => Volatile.Read(ref _leaderUntil) > _time.GetTimestamp();

    /// <summary>The holder of the lease as Redis has it now, or null when nobody leads.</summary>
    public async Task<string?> GetLeaderAsync(CancellationToken cancellationToken) =>
        await _redis.GetDatabase().StringGetAsync(LeaderKey).WaitAsync(cancellationToken);

    /// <summary>One election round: renew if we held the lease, otherwise (or if that failed) try to take it.</summary>
    /// <returns>Whether this instance leads now.</returns>
    public async Task<bool> RenewOrAcquireAsync(CancellationToken cancellationToken)
    {
        // Taken before asking: Redis starts the TTL later than this, so our view of the lease ends no later than its.
        var asked = _time.GetTimestamp();
        var wasHolding = _holding;
        try
        {
            var database = _redis.GetDatabase();
            // Renewal is tried even when we think we follow: after a timed-out round the key may still be ours,
            // and waiting for it to expire would leave nobody leading for a whole lease.
            var holding = await RenewAsync(database, cancellationToken)
                || await database.StringSetAsync(LeaderKey, InstanceId, _lease, When.NotExists).WaitAsync(cancellationToken);
            if (wasHolding && !holding)
            {
                LogRenewalRefused(_logger, InstanceId);
            }

            Volatile.Write(ref _leaderUntil, holding ? asked + _leaseTimestampTicks : long.MinValue);
            _holding = holding;
            if (_redisDown)
            {
                _redisDown = false;
                LogRedisBack(_logger);
            }

            if (holding && !wasHolding)
            {
                _lastSeenLeader = InstanceId;
                LogBecameLeader(_logger, InstanceId);
            }
            else if (!holding)
            {
                await NoteFollowingAsync(database, cancellationToken);
            }

            return holding;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Cannot prove we hold the lease, so we do not: a follower may take over once it expires.
            Volatile.Write(ref _leaderUntil, long.MinValue);
            _holding = false;
            _lastSeenLeader = null;
            if (!_redisDown || wasHolding)
            {
                _redisDown = true;
                LogElectionFailed(_logger, wasHolding, ex);
            }

            return false;
        }
    }

    /// <summary>Gives the lease up at once (a graceful stop), so a follower need not wait for it to expire.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        var wasLeader = IsLeader;
        Volatile.Write(ref _leaderUntil, long.MinValue);
        _holding = false;
        try
        {
            // Asked even if we think we follow: a round cancelled mid-flight may have taken the lease without our knowing.
            var released = (long)await _redis.GetDatabase()
                .ScriptEvaluateAsync(ReleaseScript, [LeaderKey], [InstanceId])
                .WaitAsync(cancellationToken);
            if (released == 1 || wasLeader)
            {
                LogReleased(_logger, InstanceId, released == 1);
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException)
        {
            LogReleaseFailed(_logger, ex);
        }
    }

    private async Task<bool> RenewAsync(IDatabase database, CancellationToken cancellationToken)
    {
        var renewed = await database
            .ScriptEvaluateAsync(RenewScript, [LeaderKey], [InstanceId, (long)_lease.TotalMilliseconds])
            .WaitAsync(cancellationToken);
        return (long)renewed == 1;
    }

    private async Task NoteFollowingAsync(IDatabase database, CancellationToken cancellationToken)
    {
        var leader = (string?)await database.StringGetAsync(LeaderKey).WaitAsync(cancellationToken);
        if (!string.Equals(leader, _lastSeenLeader, StringComparison.Ordinal))
        {
            _lastSeenLeader = leader;
            LogFollowing(_logger, InstanceId, leader ?? "(none)");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "This instance ({InstanceId}) is now the scheduler leader")]
    private static partial void LogBecameLeader(ILogger logger, string instanceId);

    [LoggerMessage(Level = LogLevel.Information, Message = "This instance ({InstanceId}) follows; the scheduler leader is {LeaderId}")]
    private static partial void LogFollowing(ILogger logger, string instanceId, string leaderId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "This instance ({InstanceId}) lost the scheduler lease: it expired or another instance holds it")]
    private static partial void LogRenewalRefused(ILogger logger, string instanceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scheduler leader election failed (was leader: {WasLeader}); following until Redis answers")]
    private static partial void LogElectionFailed(ILogger logger, bool wasLeader, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis answers again; scheduler leader election resumed")]
    private static partial void LogRedisBack(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "This instance ({InstanceId}) stopped leading (lease released: {Released})")]
    private static partial void LogReleased(ILogger logger, string instanceId, bool released);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release the scheduler lease; a follower takes over when it expires")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception);
}
