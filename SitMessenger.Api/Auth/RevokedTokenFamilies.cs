using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;

namespace SitMessenger.Api.Auth;

/// <summary>
/// Token families revoked by logout or by refresh-token reuse. Every authenticated request asks, so the answer
/// comes from Redis; PostgreSQL is the record, used when Redis is down and to refill Redis after it lost data.
/// </summary>
internal sealed partial class RevokedTokenFamilies(
    NpgsqlDataSource database,
    IConnectionMultiplexer redis,
    IOptions<JwtOptions> options,
    TimeProvider time,
    ILogger<RevokedTokenFamilies> logger)
{
    private static string Key(Guid familyId) => $"auth:revoked-family:{familyId:N}";

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

    /// <summary>After the revocation committed: tell the fast path. If Redis misses it, reads fall back to PostgreSQL on error only, so refill runs on reconnect.</summary>
    public async Task PublishAsync(Guid familyId)
    {
        try
        {
            // Access tokens of the family outlive it by at most their own lifetime.
            await redis.GetDatabase().StringSetAsync(Key(familyId), "1", options.Value.AccessTokenLifetime + options.Value.ClockSkew);
        }
        catch (RedisException ex)
        {
            LogRedisUnavailable(logger, ex);
        }
    }

    public async Task<bool> IsRevokedAsync(Guid familyId, CancellationToken cancellationToken)
    {
        try
        {
            if (redis.IsConnected)
            {
                return await redis.GetDatabase().KeyExistsAsync(Key(familyId));
            }
        }
        catch (RedisException ex)
        {
            LogRedisUnavailable(logger, ex);
        }

        await using var command = database.CreateCommand("SELECT EXISTS (SELECT 1 FROM revoked_token_families WHERE family_id = @family)");
        command.Parameters.AddWithValue("family", familyId);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Copies the revocations whose access tokens may still be alive into Redis (after a start or a Redis restart).</summary>
    public async Task RefillAsync(CancellationToken cancellationToken)
    {
        var lifetime = options.Value.AccessTokenLifetime + options.Value.ClockSkew;
        await using var command = database.CreateCommand("SELECT family_id, revoked FROM revoked_token_families WHERE revoked > @since");
        command.Parameters.AddWithValue("since", time.GetUtcNow() - lifetime);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var redisDb = redis.GetDatabase();
        var count = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            var remaining = lifetime - (time.GetUtcNow() - reader.GetFieldValue<DateTimeOffset>(1));
            if (remaining > TimeSpan.Zero)
            {
                await redisDb.StringSetAsync(Key(reader.GetGuid(0)), "1", remaining);
                count++;
            }
        }

        LogRefilled(logger, count);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is unavailable for token revocation checks; using PostgreSQL")]
    private static partial void LogRedisUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Copied {Count} revoked token families into Redis")]
    private static partial void LogRefilled(ILogger logger, int count);
}

/// <summary>Refills Redis with revocations at start-up and whenever the Redis connection comes back.</summary>
internal sealed partial class RevokedFamiliesRefill(
    RevokedTokenFamilies families,
    IConnectionMultiplexer redis,
    ILogger<RevokedFamiliesRefill> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // One pending refill is enough however many reconnections happen meanwhile.
        var refills = System.Threading.Channels.Channel.CreateBounded<bool>(
            new System.Threading.Channels.BoundedChannelOptions(1) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite });
        refills.Writer.TryWrite(true);
        redis.ConnectionRestored += (_, _) => refills.Writer.TryWrite(true);
        await foreach (var _ in refills.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await families.RefillAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is RedisException or NpgsqlException)
            {
                LogRefillFailed(logger, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not copy revoked token families into Redis; revocation checks fall back to PostgreSQL while Redis is down")]
    private static partial void LogRefillFailed(ILogger logger, Exception exception);
}
