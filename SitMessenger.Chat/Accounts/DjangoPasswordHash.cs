using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace SitMessenger.Chat.Accounts;

/// <summary>
/// Password hashes as Django's default hasher wrote them for the original: <c>pbkdf2_sha256$iterations$salt$hash</c>,
/// PBKDF2-HMAC-SHA256 over the UTF-8 password with the salt's text as UTF-8 bytes, the hash standard base64 of 32 bytes.
/// Accounts moved in from the original keep such a hash until their first login, which rehashes it to ours.
/// </summary>
public static class DjangoPasswordHash
{
    public const string Prefix = "pbkdf2_sha256$";

    // Far above what any Django release wrote (1,200,000 in 6.0), so a hostile row cannot make a login spin for minutes.
    private const int MaxIterations = 10_000_000;
    private const int HashSize = 32;

    /// <summary>Whether the stored hash is in this format (not whether it is well formed).</summary>
    public static bool IsDjangoHash(string storedHash) => storedHash.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>True when the hash is well formed and the password matches it; a malformed hash matches nothing.</summary>
    public static bool Verify(string storedHash, string password)
    {
        ArgumentNullException.ThrowIfNull(storedHash);
        ArgumentNullException.ThrowIfNull(password);
        if (!TryParse(storedHash, out var iterations, out var salt, out var expected))
        {
            return false;
        }

        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashSize);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>Whether the hash is one <see cref="Verify"/> can check: the right algorithm, a sane count, 32 bytes.</summary>
    public static bool IsWellFormed(string storedHash) => TryParse(storedHash, out _, out _, out _);

    private static bool TryParse(string storedHash, out int iterations, out byte[] salt, out byte[] hash)
    {
        iterations = 0;
        salt = [];
        hash = [];
        var parts = storedHash.Split('$');
        if (parts.Length != 4 || parts[0] + "$" != Prefix || parts[2].Length == 0
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out iterations)
            || iterations is < 1 or > MaxIterations)
        {
            return false;
        }

        try
        {
            hash = Convert.FromBase64String(parts[3]);
        }
        catch (FormatException)
        {
            return false;
        }

        salt = Encoding.UTF8.GetBytes(parts[2]);
        return hash.Length == HashSize;
    }
}
