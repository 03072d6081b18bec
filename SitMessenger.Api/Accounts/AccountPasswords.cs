using Microsoft.AspNetCore.Identity;
using SitMessenger.Chat.Accounts;

namespace SitMessenger.Api.Accounts;

/// <summary>
/// Registration and login by password: the hashing, over <see cref="UserStore"/>, which owns the SQL of the accounts.
/// Passwords are stored as Identity's PBKDF2 hashes only.
/// </summary>
internal sealed class AccountPasswords(UserStore users, IPasswordHasher<UserAccount> hasher, TimeProvider time)
{
    // Verifying against a real hash when the user does not exist keeps "no such user" as slow as "wrong password".
    private static readonly Lazy<string> DecoyHash = new(() => new PasswordHasher<UserAccount>().HashPassword(new UserAccount(Guid.Empty, "", ""), Guid.NewGuid().ToString()));

    /// <summary>The new account, or null when the username is taken (by the same name or a look-alike).</summary>
    public async Task<UserAccount?> CreateAsync(string username, string email, string password, CancellationToken cancellationToken)
    {
        var account = new UserAccount(Guid.CreateVersion7(), username, email);
        return await users.CreateAsync(account, hasher.HashPassword(account, password), time.GetUtcNow(), cancellationToken) ? account : null;
    }

    public async Task<UserAccount?> VerifyPasswordAsync(string username, string password, CancellationToken cancellationToken)
    {
        var stored = await users.FindCredentialsAsync(username, cancellationToken);
        if (stored is null)
        {
            hasher.VerifyHashedPassword(new UserAccount(Guid.Empty, username, ""), DecoyHash.Value, password);
            return null;
        }

        switch (hasher.VerifyHashedPassword(stored.Account, stored.PasswordHash, password))
        {
            case PasswordVerificationResult.Failed:
                return null;
            case PasswordVerificationResult.SuccessRehashNeeded:
                // Accounts moved in from the Django version keep its hash until their first login.
                await users.ReplacePasswordHashAsync(stored.Account.Id, stored.PasswordHash, hasher.HashPassword(stored.Account, password), cancellationToken);
                break;
        }

        return stored.Account;
    }
}
