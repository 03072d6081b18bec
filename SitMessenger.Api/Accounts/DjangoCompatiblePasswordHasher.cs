using Microsoft.AspNetCore.Identity;
using SitMessenger.Chat.Accounts;

namespace SitMessenger.Api.Accounts;

/// <summary>
/// Identity's PBKDF2 hasher, which also verifies the hashes of accounts moved in from the Django version
/// (<see cref="DjangoPasswordHash"/>): a match there answers <see cref="PasswordVerificationResult.SuccessRehashNeeded"/>,
/// so the login stores the password again in our format and the Django hash is gone after its first use.
/// New hashes are always Identity's.
/// </summary>
internal sealed class DjangoCompatiblePasswordHasher : IPasswordHasher<UserAccount>
{
    private readonly PasswordHasher<UserAccount> _identity = new();

    public string HashPassword(UserAccount user, string password) => _identity.HashPassword(user, password);

    public PasswordVerificationResult VerifyHashedPassword(UserAccount user, string hashedPassword, string providedPassword)
    {
        if (DjangoPasswordHash.IsDjangoHash(hashedPassword))
        {
            return DjangoPasswordHash.Verify(hashedPassword, providedPassword)
                ? PasswordVerificationResult.SuccessRehashNeeded
                : PasswordVerificationResult.Failed;
        }

        // Django's unusable password ("!" and random text: an account that may not log in with a password) and any
        // other hasher's format the original may have held: no password matches them.
        if (hashedPassword.StartsWith('!') || hashedPassword.Contains('$', StringComparison.Ordinal))
        {
            return PasswordVerificationResult.Failed;
        }

        return _identity.VerifyHashedPassword(user, hashedPassword, providedPassword);
    }
}
