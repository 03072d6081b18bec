using Microsoft.Extensions.Caching.Memory;
using SitMessenger.Chat.Accounts;

namespace SitMessenger.Api.Accounts;

/// <summary>
/// Whether a token's subject is a user, asked on every authenticated request. Accounts are never deleted, so a
/// user once seen stays known: only hits are cached (briefly, in the shared bounded cache), and an unknown id costs
/// one indexed lookup each time rather than being remembered for whoever mints such tokens.
/// </summary>
internal sealed class KnownUsers(UserStore users, IMemoryCache cache)
{
    private static readonly TimeSpan Remembered = TimeSpan.FromMinutes(10);

    public async Task<bool> ExistsAsync(Guid userId, CancellationToken cancellationToken)
    {
        var key = (nameof(KnownUsers), userId);
        if (cache.TryGetValue(key, out _))
        {
            return true;
        }

        if (!await users.ExistsAsync(userId, cancellationToken))
        {
            return false;
        }

        cache.Set(key, true, new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = Remembered });
        return true;
    }
}
