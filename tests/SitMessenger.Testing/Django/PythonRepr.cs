using System.Globalization;
using System.Text;

namespace SitMessenger.Testing.Django;

/// <summary>One message as the original kept it: ISO time text, sender's username ("" for the first line), text.</summary>
public sealed record DjangoLine(string Datetime, string User, string Message);

/// <summary>
/// Writes what the original's <c>str(message_data)</c> writes (CPython 3's repr of a dict of a list of dicts of str),
/// so the tests' chat files are byte for byte what the original left on disk: for each str, single quotes unless it
/// holds a single quote and no double quote; backslash, that quote, \t \n \r escaped; other control and non-printable
/// characters as \xNN, \uNNNN or \UNNNNNNNN; printable non-ASCII as is.
/// </summary>
public static class PythonRepr
{
    public static string Messages(IEnumerable<DjangoLine> lines)
    {
        var text = new StringBuilder("{'messages': [");
        var first = true;
        foreach (var line in lines)
        {
            text.Append(first ? "" : ", ");
            first = false;
            text.Append("{'datetime': ").Append(Str(line.Datetime))
                .Append(", 'user': ").Append(Str(line.User))
                .Append(", 'message': ").Append(Str(line.Message)).Append('}');
        }

        return text.Append("]}").ToString();
    }

    public static string Str(string value)
    {
        var quote = value.Contains('\'', StringComparison.Ordinal) && !value.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        var text = new StringBuilder().Append(quote);
        foreach (var rune in value.EnumerateRunes())
        {
            var code = rune.Value;
            if (code == quote || code == '\\')
            {
                text.Append('\\').Append((char)code);
            }
            else if (code == '\t')
            {
                text.Append("\\t");
            }
            else if (code == '\n')
            {
                text.Append("\\n");
            }
            else if (code == '\r')
            {
                text.Append("\\r");
            }
            else if (code is < 0x20 or 0x7f)
            {
                text.Append(CultureInfo.InvariantCulture, $"\\x{code:x2}");
            }
            else if (code < 0x7f || IsPrintable(rune))
            {
                text.Append(rune.ToString());
            }
            else if (code <= 0xff)
            {
                text.Append(CultureInfo.InvariantCulture, $"\\x{code:x2}");
            }
            else if (code <= 0xffff)
            {
                text.Append(CultureInfo.InvariantCulture, $"\\u{code:x4}");
            }
            else
            {
                text.Append(CultureInfo.InvariantCulture, $"\\U{code:x8}");
            }
        }

        return text.Append(quote).ToString();
    }

    // CPython's str.isprintable: not in the categories Cc, Cf, Cs, Co, Cn, Zl, Zp, Zs (the space itself is ASCII).
    private static bool IsPrintable(Rune rune) => Rune.GetUnicodeCategory(rune) is not (
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
        or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
        or UnicodeCategory.SpaceSeparator);
}
