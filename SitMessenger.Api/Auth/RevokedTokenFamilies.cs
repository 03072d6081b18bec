using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;

namespace SitMessenger.Api.Auth;

/// <summary>
/// Token families revoked by logout or by refresh-token reuse. Every authenticated request asks, so the answer
/// comes from memory: each Api instance keeps the recent revocations, learns new ones from the others over Redis
/// pub/sub, and reloads them from PostgreSQL (the record) at start, after Redis reconnects, and every minute.
/// While Redis is disconnected a revocation elsewhere could be missed, so then PostgreSQL is asked directly.
/// </summary>
internal sealed partial class RevokedTokenFamilies(
    NpgsqlDataSource database,
    IConnectionMultiplexer redis,
    IOptions<JwtOptions> options,
    TimeProvider time,
    ILogger<RevokedTokenFamilies> logger)
{
    public static readonly RedisChannel Channel = RedisChannel.Literal("auth:revoked-families");

    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _revoked = new();
    private volatile bool _loaded;

    /// <summary>How long a revocation matters: after that every access token of the family has expired anyway.</summary>
    private TimeSpan Relevance => options.Value.AccessTokenLifetime + options.Value.ClockSkew;

    public async Task RevokeAsync(Guid familyId, NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO revoked_token_families (family_id, revoked) VALUES (@family, @now) ON CONFLICT DO NOTHING;
            UPDATE refresh_tokens SET revoked = @now WHERE family_id = @family AND revoked IS NULL;
            """, connection, transaction);
        command.Parameters.AddWithValue("family", familyId);
        command.Parameters.AddWithValue("now", time.GetUtcNow());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>After the revocation committed: applies here at once and tells the other instances.</summary>
    public async Task PublishAsync(Guid familyId)
    {
        Remember(familyId, time.GetUtcNow());
        try
        {
            await redis.GetSubscriber().PublishAsync(Channel, familyId.ToString("N"));
        }
        catch (RedisException ex)
        {
            // The others reload from PostgreSQL when Redis is back (and ask it directly meanwhile).
            LogRedisUnavailable(logger, ex);
        }
    }

    public async Task<bool> IsRevokedAsync(Guid familyId, CancellationToken cancellationToken)
    {
        if (_revoked.ContainsKey(familyId))
        {
            return true;
        }

        // Until the first load, and while Redis (and so news from other instances) is cut off, PostgreSQL decides.
        if (_loaded && redis.IsConnected)
        {
            return false;
        }

        await using var command = database.CreateCommand("SELECT EXISTS (SELECT 1 FROM revoked_token_families WHERE family_id = @family)");
        command.Parameters.AddWithValue("family", familyId);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    internal void OnPublished(RedisValue message)
    {
        if (Guid.TryParseExact(message.ToString(), "N", out var familyId))
        {
            Remember(familyId, time.GetUtcNow());
        }
    }

    /// <summary>Loads the revocations that still matter from PostgreSQL and forgets the ones that no longer do.</summary>
    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        var since = time.GetUtcNow() - Relevance;
        await using var command = database.CreateCommand("SELECT family_id, revoked FROM revoked_token_families WHERE revoked > @since");
        command.Parameters.AddWithValue("since", since);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            Remember(reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1));
        }

        foreach (var (familyId, revoked) in _revoked)
        {
            if (revoked < since)
            {
                _revoked.TryRemove(familyId, out _);
            }
        }

        _loaded = true;
    }

    private void Remember(Guid familyId, DateTimeOffset revoked) => _revoked[familyId] = revoked;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is unavailable: a revocation could not be announced to other Api instances; they read it from PostgreSQL")]
    private static partial void LogRedisUnavailable(ILogger logger, Exception exception);
}

/// <summary>Keeps every instance's set of revoked families current: subscribe, reload at start, on reconnect and every minute.</summary>
internal sealed partial class RevokedFamiliesRefill(
    RevokedTokenFamilies families,
    IConnectionMultiplexer redis,
    TimeProvider time,
    ILogger<RevokedFamiliesRefill> logger) : BackgroundService
{
    private static readonly TimeSpan ReloadEvery = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // One pending reload is enough however many reconnections happen meanwhile.
        var reloads = System.Threading.Channels.Channel.CreateBounded<bool>(
            new System.Threading.Channels.BoundedChannelOptions(1) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite });
        redis.ConnectionRestored += (_, _) => reloads.Writer.TryWrite(true);
        try
        {
            await redis.GetSubscriber().SubscribeAsync(RevokedTokenFamilies.Channel, (_, message) => families.OnPublished(message));
        }
        catch (RedisException ex)
        {
            // The multiplexer re-establishes subscriptions when it reconnects.
            LogReloadFailed(logger, ex);
        }

        using var timer = new PeriodicTimer(ReloadEvery, time);
        var ticks = Task.Run(async () =>
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                reloads.Writer.TryWrite(true);
            }
        }, stoppingToken);

        reloads.Writer.TryWrite(true);
        await foreach (var _ in reloads.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await families.ReloadAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                LogReloadFailed(logger, ex);
            }
        }

        await ticks;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not load revoked token families; retrying at the next reload")]
    private static partial void LogReloadFailed(ILogger logger, Exception exception);
}
