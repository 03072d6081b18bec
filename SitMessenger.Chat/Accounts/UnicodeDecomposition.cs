using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace SitMessenger.Chat.Accounts;

/// <summary>
/// NFKD without ICU: the services run with InvariantGlobalization, where <see cref="string.Normalize()"/> changes
/// nothing, and a skeleton kept under a unique index must not shift with the machine's ICU version. The data is
/// UsernameNormalization.txt (scripts/generate-username-normalization.py; Hangul syllables stay composed).
/// </summary>
internal static class UnicodeDecomposition
{
    private static readonly (FrozenDictionary<int, int[]> Decompositions, FrozenDictionary<int, int> CombiningClasses) Data = Load();

    /// <summary>
    /// The compatibility decomposition with marks in canonical order. NFD(NFKC(s)) equals it (composition is undone
    /// by canonical decomposition), and it is idempotent, so it also serves for TS #39's NFD steps.
    /// </summary>
    public static string Decompose(string text)
    {
        var runes = new List<(int Value, int Class)>(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            if (Data.Decompositions.TryGetValue(rune.Value, out var parts))
            {
                runes.AddRange(parts.Select(part => (part, ClassOf(part))));
            }
            else
            {
                runes.Add((rune.Value, ClassOf(rune.Value)));
            }
        }

        // Canonical ordering: within each run of marks, a stable sort by combining class.
        for (var start = 0; start < runes.Count; start++)
        {
            if (runes[start].Class == 0)
            {
                continue;
            }

            var end = start;
            while (end < runes.Count && runes[end].Class != 0)
            {
                end++;
            }

            var ordered = runes.GetRange(start, end - start).OrderBy(r => r.Class).ToList();
            for (var i = 0; i < ordered.Count; i++)
            {
                runes[start + i] = ordered[i];
            }

            start = end;
        }

        var builder = new StringBuilder(runes.Count);
        foreach (var (value, _) in runes)
        {
            builder.Append(new Rune(value).ToString());
        }

        return builder.ToString();
    }

    private static int ClassOf(int codePoint) => Data.CombiningClasses.GetValueOrDefault(codePoint);

    private static (FrozenDictionary<int, int[]>, FrozenDictionary<int, int>) Load()
    {
        using var stream = typeof(UnicodeDecomposition).Assembly.GetManifestResourceStream("UsernameNormalization.txt")
            ?? throw new InvalidOperationException("UsernameNormalization.txt is not embedded in SitMessenger.Chat.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var decompositions = new Dictionary<int, int[]>();
        var classes = new Dictionary<int, int>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var fields = line.Split(' ');
            if (line[0] == '@')
            {
                classes[Hex(fields[0][1..])] = int.Parse(fields[1], CultureInfo.InvariantCulture);
            }
            else
            {
                decompositions[Hex(fields[0])] = [.. fields.Skip(1).Select(Hex)];
            }
        }

        return (decompositions.ToFrozenDictionary(), classes.ToFrozenDictionary());
    }

    private static int Hex(string field) => int.Parse(field, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
