using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace SitMessenger.Api.Auth;

/// <summary>Limits (section "LoginThrottle").</summary>
internal sealed class LoginThrottleOptions
{
    public const string SectionName = "LoginThrottle";

    /// <summary>Failed logins for one username from one address before that pair waits out <see cref="PairWindow"/>.</summary>
    public int FailuresPerPair { get; set; } = 5;

    public TimeSpan PairWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Failed logins for one username from all addresses together before only its owner's addresses may try.</summary>
    public int FailuresPerUsername { get; set; } = 100;

    public TimeSpan UsernameWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long an address that logged in to (or registered) an account stays that account's own address.</summary>
    public TimeSpan KnownAddressLifetime { get; set; } = TimeSpan.FromDays(30);

    public int AttemptsPerAddress { get; set; } = 20;

    public TimeSpan AddressWindow { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// Slows password guessing, counted in Redis so every Api replica shares the counts:
/// <list type="bullet">
/// <item>all attempts (login, registration) per client address;</item>
/// <item>failed logins per (username, address) pair: a stranger's wrong guesses hold back only the stranger;</item>
/// <item>failed logins per username from all addresses, an hourly budget that bounds a spread-out attack.</item>
/// </list>
/// Why the budget does not lock the account: a lock on the username would let anyone shut its owner out (that was
/// issue 9's first finding). Once the budget is spent, only addresses the account was registered or logged in from
/// (remembered for <see cref="LoginThrottleOptions.KnownAddressLifetime"/>) may still try, each within its pair limit;
/// every other address gets 429 until the hour ends. So a stranger, from however many addresses, gets at most the
/// budget's guesses an hour, while the owner from their usual address is never stopped by them. A delay instead of
/// the refusal would not bound guesses sent in parallel. The owner on a new address during an attack waits, as
/// everyone else does. If Redis is down the throttle lets requests through (logged): password hashing is slow by
/// design, and locking everyone out would be worse.
/// </summary>
internal sealed partial class LoginThrottle(IConnectionMultiplexer redis, IOptions<LoginThrottleOptions> options, ILogger<LoginThrottle> logger)
{
    private readonly LoginThrottleOptions _options = options.Value;

    // Usernames (and with them the pairs' addresses) are hashed so the keyspace holds no account names. Upper-cased:
    // names differing only by case cannot both exist, and a guesser must not earn a fresh budget by changing case.
    private static string Hash(string username, string? address = null) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            address is null ? username.ToUpperInvariant() : username.ToUpperInvariant() + "\n" + address)));

    private static string UsernameKey(string username) => "throttle:login-failures:" + Hash(username);

    private static string PairKey(string username, string address) => "throttle:login-pair:" + Hash(username, address);

    private static string KnownAddressKey(string username, string address) => "throttle:login-known:" + Hash(username, address);

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

            return username is null ? null : await CheckUsernameAsync(db, username, address);
        }
        catch (RedisException ex)
        {
            LogRedisUnavailable(logger, ex);
            return null;
        }
    }

    private async Task<TimeSpan?> CheckUsernameAsync(IDatabase db, string username, string address)
    {
        var pairKey = PairKey(username, address);
        var usernameKey = UsernameKey(username);
        var counts = await db.StringGetAsync([pairKey, usernameKey, KnownAddressKey(username, address)]);
        if ((long?)counts[0] >= _options.FailuresPerPair)
        {
            return await db.KeyTimeToLiveAsync(pairKey) ?? _options.PairWindow;
        }

        if ((long?)counts[1] >= _options.FailuresPerUsername && counts[2].IsNull)
        {
            return await db.KeyTimeToLiveAsync(usernameKey) ?? _options.UsernameWindow;
        }

        return null;
    }

    public async Task RecordFailureAsync(string username, string address)
    {
        try
        {
            var db = redis.GetDatabase();
            foreach (var (key, window) in new[] { (PairKey(username, address), _options.PairWindow), (UsernameKey(username), _options.UsernameWindow) })
            {
                if (await db.StringIncrementAsync(key) == 1)
                {
                    await db.KeyExpireAsync(key, window);
                }
            }
        }
        catch (RedisException ex)
        {
            LogRedisUnavailable(logger, ex);
        }
    }

    /// <summary>
    /// The address is now the account's own. The pair's failures are forgiven; the username's budget is not, or
    /// the owner logging in would hand a guesser a fresh budget.
    /// </summary>
    public async Task RecordSuccessAsync(string username, string address)
    {
        try
        {
            var db = redis.GetDatabase();
            await db.KeyDeleteAsync(PairKey(username, address));
            await db.StringSetAsync(KnownAddressKey(username, address), 1, _options.KnownAddressLifetime);
        }
        catch (RedisException ex)
        {
            LogRedisUnavailable(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is unavailable: login throttling is off until it returns")]
    private static partial void LogRedisUnavailable(ILogger logger, Exception exception);
}
