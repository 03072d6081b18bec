using System.Collections.Frozen;
using System.Text;

namespace SitMessenger.Chat.Accounts;

/// <summary>
/// The key that makes usernames unique: two names with the same skeleton look alike ("alice", "Alice", "аlice" with a
/// Cyrillic а, "ａｌｉｃｅ" in full width), so the second is refused as taken. Shared by the Api (registration) and the
/// migrator (filling the key in for accounts made before it existed).
/// </summary>
/// <remarks>
/// Unicode TS #39's skeleton (NFD, map confusables, NFD again), on the NFKC form of the name (which already folds
/// full-width and other compatibility forms; <see cref="UnicodeDecomposition"/> does both without ICU) and made
/// case-insensitive: the map runs before lower-casing, so an
/// upper-case look-alike (Greek Η, Cyrillic В) is caught as the Latin capital it imitates, and again after it, for the
/// lower-case ones. Case-insensitivity and the I/l confusion together make i and l one class (I is i's capital and
/// l's twin), so "alice" and "allce" share a skeleton: refusing a look-alike is cheap, admitting one is not.
/// Changing the map changes existing skeletons: add a migration that recomputes them.
/// </remarks>
public static class UsernameSkeleton
{
    /// <summary>
    /// A subset of Unicode's confusables.txt (security/15.1.0), its entries that matter for the letters, digits and
    /// @.+-_ a username may hold: Cyrillic and Greek letters that look like Latin ones (capital and small), Latin
    /// small capitals and dotless i, the digits 0 and 1 (as o and l), and capital I (as l). Targets are lower-case
    /// Latin; Cyrillic and Greek capitals whose small form looks different (В/в, Н/н, Η/η) map by the capital.
    /// </summary>
    private static readonly FrozenDictionary<int, char> Confusables = new Dictionary<int, char>
    {
        // Digits and Latin.
        ['0'] = 'o', ['1'] = 'l', ['I'] = 'l', ['i'] = 'l', [0x0131] = 'l' /* ı */, [0x0269] = 'l' /* ɩ */,
        [0x0251] = 'a' /* ɑ */, [0x0261] = 'g' /* ɡ */, [0x1D00] = 'a' /* ᴀ */, [0x1D04] = 'c' /* ᴄ */, [0x1D0F] = 'o' /* ᴏ */,
        [0x1D1C] = 'u' /* ᴜ */, [0x1D20] = 'v' /* ᴠ */, [0x1D21] = 'w' /* ᴡ */, [0x1D22] = 'z' /* ᴢ */, [0x0280] = 'r' /* ʀ */,

        // Cyrillic capitals.
        [0x0410] = 'a', [0x0412] = 'b', [0x0415] = 'e', [0x041A] = 'k', [0x041C] = 'm', [0x041D] = 'h', [0x041E] = 'o',
        [0x0420] = 'p', [0x0421] = 'c', [0x0422] = 't', [0x0423] = 'y', [0x0425] = 'x', [0x0405] = 's', [0x0406] = 'l',
        [0x0408] = 'j', [0x04AE] = 'y', [0x04BA] = 'h', [0x04C0] = 'l', [0x0500] = 'd', [0x051A] = 'q', [0x051C] = 'w',

        // Cyrillic small.
        [0x0430] = 'a', [0x0432] = 'b', [0x0435] = 'e', [0x043A] = 'k', [0x043C] = 'm', [0x043D] = 'h', [0x043E] = 'o',
        [0x0440] = 'p', [0x0441] = 'c', [0x0442] = 't', [0x0443] = 'y', [0x0445] = 'x', [0x0455] = 's', [0x0456] = 'l',
        [0x0458] = 'j', [0x04AF] = 'y', [0x04BB] = 'h', [0x04CF] = 'l', [0x0501] = 'd', [0x051B] = 'q', [0x051D] = 'w',
        [0x0475] = 'v' /* ѵ */, [0x0461] = 'w' /* ѡ */,

        // Greek capitals.
        [0x0391] = 'a', [0x0392] = 'b', [0x0395] = 'e', [0x0396] = 'z', [0x0397] = 'h', [0x0399] = 'l', [0x039A] = 'k',
        [0x039C] = 'm', [0x039D] = 'n', [0x039F] = 'o', [0x03A1] = 'p', [0x03A4] = 't', [0x03A5] = 'y', [0x03A7] = 'x',

        // Greek small.
        [0x03B1] = 'a', [0x03B3] = 'y', [0x03B9] = 'l', [0x03BA] = 'k', [0x03BD] = 'v', [0x03BF] = 'o', [0x03C1] = 'p',
        [0x03C3] = 'o' /* σ */, [0x03C5] = 'u', [0x03C7] = 'x', [0x03C9] = 'w', [0x03B7] = 'n', [0x03BC] = 'u',
    }.ToFrozenDictionary();

    public static string Of(string username)
    {
        ArgumentNullException.ThrowIfNull(username);
        // NFD(NFKC(name)) is the compatibility decomposition; the lower-casing may compose nothing, but the final
        // step is TS #39's second NFD all the same.
        var decomposed = UnicodeDecomposition.Decompose(username);
        var mapped = Map(UnicodeDecomposition.Decompose(Map(decomposed).ToLowerInvariant()));
        return UnicodeDecomposition.Decompose(mapped);
    }

    private static string Map(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            if (Confusables.TryGetValue(rune.Value, out var latin))
            {
                builder.Append(latin);
            }
            else
            {
                builder.Append(rune.ToString());
            }
        }

        return builder.ToString();
    }
}
