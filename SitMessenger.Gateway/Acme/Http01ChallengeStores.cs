using System.Collections.Concurrent;
using StackExchange.Redis;

namespace SitMessenger.Gateway.Acme;

/// <summary>
/// The HTTP-01 answers being validated: token to key authorization. The CA may ask any replica behind the load
/// balancer, so with several replicas the store must be shared (<see cref="RedisHttp01ChallengeStore"/>).
/// </summary>
internal interface IHttp01ChallengeStore
{
    Task SetAsync(string token, string keyAuthorization, TimeSpan lifetime, CancellationToken cancellationToken);

    Task<string?> GetAsync(string token, CancellationToken cancellationToken);

    Task RemoveAsync(string token, CancellationToken cancellationToken);
}

internal sealed class InMemoryHttp01ChallengeStore(TimeProvider time) : IHttp01ChallengeStore
{
    private readonly ConcurrentDictionary<string, (string KeyAuthorization, DateTimeOffset Expires)> _answers = new(StringComparer.Ordinal);

    public Task SetAsync(string token, string keyAuthorization, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        _answers[token] = (keyAuthorization, time.GetUtcNow() + lifetime);
        return Task.CompletedTask;
    }

    public Task<string?> GetAsync(string token, CancellationToken cancellationToken)
    {
        if (_answers.TryGetValue(token, out var answer))
        {
            if (answer.Expires > time.GetUtcNow())
            {
                return Task.FromResult<string?>(answer.KeyAuthorization);
            }

            _answers.TryRemove(new KeyValuePair<string, (string, DateTimeOffset)>(token, answer));
        }

        return Task.FromResult<string?>(null);
    }

    public Task RemoveAsync(string token, CancellationToken cancellationToken)
    {
        _answers.TryRemove(token, out _);
        return Task.CompletedTask;
    }
}

/// <summary>Answers in Redis, one key per token with a short expiry, so a crashed order leaves nothing behind for long.</summary>
internal sealed class RedisHttp01ChallengeStore(IConnectionMultiplexer redis) : IHttp01ChallengeStore
{
    public Task SetAsync(string token, string keyAuthorization, TimeSpan lifetime, CancellationToken cancellationToken) =>
        redis.GetDatabase().StringSetAsync(Key(token), keyAuthorization, lifetime).WaitAsync(cancellationToken);

    public async Task<string?> GetAsync(string token, CancellationToken cancellationToken)
    {
        var value = await redis.GetDatabase().StringGetAsync(Key(token)).WaitAsync(cancellationToken);
        return value.HasValue ? value.ToString() : null;
    }

    public Task RemoveAsync(string token, CancellationToken cancellationToken) =>
        redis.GetDatabase().KeyDeleteAsync(Key(token)).WaitAsync(cancellationToken);

    private static RedisKey Key(string token) => RedisAcmeStore.Prefix + "http01:" + token;
}

/// <summary>Publishes the answers to the CA's challenges for as long as it validates them.</summary>
internal interface IAcmeChallengeSolver
{
    /// <summary>Challenge types this solver answers, most preferred first.</summary>
    IReadOnlyList<string> SupportedTypes { get; }

    Task PublishAsync(string challengeType, string domain, string token, string keyAuthorization, CancellationToken cancellationToken);

    Task RemoveAsync(string challengeType, string domain, string token, CancellationToken cancellationToken);
}

/// <summary>HTTP-01: the key authorization at <c>http://{domain}/.well-known/acme-challenge/{token}</c>.</summary>
internal sealed class Http01ChallengeSolver(IHttp01ChallengeStore store) : IAcmeChallengeSolver
{
    // Long enough for a CA that validates slowly; the answer is removed as soon as validation ends anyway.
    private static readonly TimeSpan AnswerLifetime = TimeSpan.FromMinutes(10);

    public IReadOnlyList<string> SupportedTypes { get; } = [AcmeChallengeTypes.Http01];

    public Task PublishAsync(string challengeType, string domain, string token, string keyAuthorization, CancellationToken cancellationToken) =>
        store.SetAsync(token, keyAuthorization, AnswerLifetime, cancellationToken);

    public Task RemoveAsync(string challengeType, string domain, string token, CancellationToken cancellationToken) =>
        store.RemoveAsync(token, cancellationToken);
}
