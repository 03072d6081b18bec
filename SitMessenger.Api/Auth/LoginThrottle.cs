using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace SitMessenger.Api.Auth;

/// <summary>Limits (section "LoginThrottle").</summary>
internal sealed class LoginThrottleOptions
{
    public const string SectionName = "LoginThrottle";

    public int FailuresPerUsername { get; set; } = 5;

    public TimeSpan UsernameWindow { get; set; } = TimeSpan.FromMinutes(15);

    public int AttemptsPerAddress { get; set; } = 20;

    public TimeSpan AddressWindow { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// Slows password guessing: failed logins per username and all attempts (login, registration) per client address,
/// counted in Redis so every Api replica shares them. If Redis is down the throttle lets requests through
/// (logged): password hashing is slow by design, and locking everyone out would be worse.
/// </summary>
internal sealed partial class LoginThrottle(IConnectionMultiplexer redis, IOptions<LoginThrottleOptions> options, ILogger<LoginThrottle> logger)
{
    private readonly LoginThrottleOptions _options = options.Value;

    // Usernames are hashed so the keyspace holds no account names.
    private static string UsernameKey(string username) =>
        "throttle:login-failures:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(username.ToUpperInvariant())));

    private static string AddressKey(string address) => "throttle:address:" + address;

    /// <summary>Counts this attempt for the address; the wait before retrying when over a limit, else null.</summary>
    public async Task<TimeSpan?> CheckAttemptAsync(string address, string? username)
    {
        try
        {
            var db = redis.GetDatabase();
            var key = AddressKey(address);
            var attempts = await db.StringIncrementAsync(key);
            if (attempts == 1)
            {
                await db.KeyExpireAsync(key, _options.AddressWindow);
            }

            if (attempts > _options.AttemptsPerAddress)
            {
                return await db.KeyTimeToLiveAsync(key) ?? _options.AddressWindow;
            }

            if (username is not null)
            {
                var failures = (long?)await db.StringGetAsync(UsernameKey(username)) ?? 0;
                if (failures >= _options.FailuresPerUsername)
                {
                    return await db.KeyTimeToLiveAsync(UsernameKey(username)) ?? _options.UsernameWindow;
                }
            }

            return null;
        }
        catch (RedisException ex)
        {
            LogRedisUnavailable(logger, ex);
            return null;
        }
    }

    public async Task RecordFailureAsync(string username)
    {
        try
        {
            var db = redis.GetDatabase();
            var key = UsernameKey(username);
            if (await db.StringIncrementAsync(key) == 1)
            {
                await db.KeyExpireAsync(key, _options.UsernameWindow);
            }
        }
        catch (RedisException ex)
        {
            LogRedisUnavailable(logger, ex);
        }
    }

    public async Task RecordSuccessAsync(string username)
    {
        try
        {
            await redis.GetDatabase().KeyDeleteAsync(UsernameKey(username));
        }
        catch (RedisException ex)
        {
            LogRedisUnavailable(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is unavailable: login throttling is off until it returns")]
    private static partial void LogRedisUnavailable(ILogger logger, Exception exception);
}
