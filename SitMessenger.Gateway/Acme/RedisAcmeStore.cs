using System.Globalization;
using StackExchange.Redis;

namespace SitMessenger.Gateway.Acme;

/// <summary>
/// ACME state shared by all Gateway replicas. Keys: <c>acme:account-key</c>, <c>acme:cert:{key}</c> (a hash of pfx and
/// notAfter) and the order lock <c>acme:order-lock:{key}</c>. Private keys arrive here encrypted (Acme:StorePassword
/// is required with this store).
/// </summary>
internal sealed class RedisAcmeStore(IConnectionMultiplexer redis) : IAcmeStore
{
    public const string Prefix = "acme:";

    private static readonly RedisKey AccountKey = Prefix + "account-key";

    // Compare-and-delete: a holder whose lock lapsed must not release the next holder's lock.
    private static readonly LuaScript ReleaseScript = LuaScript.Prepare(
        "if redis.call('get', @key) == @token then return redis.call('del', @key) else return 0 end");

    public async Task<string?> LoadAccountKeyAsync(CancellationToken cancellationToken)
    {
        var value = await redis.GetDatabase().StringGetAsync(AccountKey).WaitAsync(cancellationToken);
        return value.HasValue ? value.ToString() : null;
    }

    public Task SaveAccountKeyAsync(string pem, CancellationToken cancellationToken) =>
        redis.GetDatabase().StringSetAsync(AccountKey, pem).WaitAsync(cancellationToken);

    public async Task<StoredCertificate?> LoadCertificateAsync(string certificateKey, CancellationToken cancellationToken)
    {
        var values = await redis.GetDatabase().HashGetAsync(CertificateKey(certificateKey), ["pfx", "notAfter"]).WaitAsync(cancellationToken);
        if (values[0].IsNullOrEmpty || values[1].IsNullOrEmpty)
        {
            return null;
        }

        return new StoredCertificate(
            (byte[])values[0]!,
            DateTimeOffset.Parse(values[1].ToString(), CultureInfo.InvariantCulture));
    }

    public Task SaveCertificateAsync(string certificateKey, StoredCertificate certificate, CancellationToken cancellationToken) =>
        // One HSET: readers never see a new expiry with an old certificate.
        redis.GetDatabase().HashSetAsync(CertificateKey(certificateKey),
        [
            new HashEntry("pfx", certificate.Pfx),
            new HashEntry("notAfter", certificate.NotAfter.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)),
        ]).WaitAsync(cancellationToken);

    /// <summary>SET NX PX with a random token; the lease deletes the key only while it still holds that token.</summary>
    public async Task<IAsyncDisposable?> TryAcquireOrderLockAsync(string certificateKey, TimeSpan expiry, CancellationToken cancellationToken)
    {
        var key = LockKey(certificateKey);
        var token = Guid.NewGuid().ToString("N");
        var acquired = await redis.GetDatabase().StringSetAsync(key, token, expiry, When.NotExists).WaitAsync(cancellationToken);
        return acquired ? new Lease(redis, key, token) : null;
    }

    public static RedisKey LockKey(string certificateKey) => Prefix + "order-lock:" + certificateKey;

    public static RedisKey CertificateKey(string certificateKey) => Prefix + "cert:" + certificateKey;

    private sealed class Lease(IConnectionMultiplexer redis, RedisKey key, string token) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await redis.GetDatabase().ScriptEvaluateAsync(ReleaseScript, new { key, token = (RedisValue)token });
            }
            catch (RedisException)
            {
                // Unreleased, the lock lapses at its expiry; the other replicas then go on.
            }
        }
    }
}
