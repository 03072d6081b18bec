using System.Globalization;
using System.Text;

namespace SitMessenger.MigrationService.DjangoImport;

/// <summary>
/// Reads the Python literal the original wrote into each chat file: <c>str(dict)</c>, which is Python's repr, not JSON
/// (strings in single quotes, or double quotes when the text holds a single quote and no double one; backslash escapes
/// such as <c>\'</c>, <c>\\</c>, <c>\n</c>, <c>\x07</c>, <c>\u200b</c>, <c>\U0001f600</c>; other non-ASCII as is).
/// The original read it back with <c>eval</c>; this reader understands only dicts with str keys, lists and str, and
/// rejects anything else, so a file can never make the importer do more than build those.
/// </summary>
internal static class PythonLiteral
{
    // A chat file nests dict → list → dict; anything deeper is not something the original wrote.
    private const int MaxDepth = 16;

    /// <summary>A dict (<see cref="Dictionary{TKey,TValue}"/> of string), list (<see cref="List{T}"/>) or string.</summary>
    /// <exception cref="FormatException">Not such a literal; the message says where and why.</exception>
    public static object Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var position = 0;
        var value = ReadValue(text, ref position, depth: 0);
        SkipSpace(text, ref position);
        if (position != text.Length)
        {
            throw Error(text, position, "text after the end of the literal");
        }

        return value;
    }

    private static object ReadValue(string text, ref int position, int depth)
    {
        if (depth > MaxDepth)
        {
            throw Error(text, position, $"nested deeper than {MaxDepth} levels");
        }

        SkipSpace(text, ref position);
        if (position >= text.Length)
        {
            throw Error(text, position, "the text ends where a value should start");
        }

        return text[position] switch
        {
            '{' => ReadDict(text, ref position, depth),
            '[' => ReadList(text, ref position, depth),
            '\'' or '"' => ReadString(text, ref position),
            var other => throw Error(text, position, $"'{other}' starts no dict, list or str (only those are read)"),
        };
    }

    private static Dictionary<string, object> ReadDict(string text, ref int position, int depth)
    {
        position++; // {
        var dict = new Dictionary<string, object>(StringComparer.Ordinal);
        SkipSpace(text, ref position);
        if (Peek(text, position) == '}')
        {
            position++;
            return dict;
        }

        while (true)
        {
            SkipSpace(text, ref position);
            var keyAt = position;
            if (ReadValue(text, ref position, depth + 1) is not string key)
            {
                throw Error(text, keyAt, "a dict key that is not a str");
            }

            Expect(text, ref position, ':');
            var value = ReadValue(text, ref position, depth + 1);
            if (!dict.TryAdd(key, value))
            {
                throw Error(text, keyAt, "the same key twice in one dict");
            }

            if (ReadSeparator(text, ref position, '}'))
            {
                return dict;
            }
        }
    }

    private static List<object> ReadList(string text, ref int position, int depth)
    {
        position++; // [
        var list = new List<object>();
        SkipSpace(text, ref position);
        if (Peek(text, position) == ']')
        {
            position++;
            return list;
        }

        while (true)
        {
            list.Add(ReadValue(text, ref position, depth + 1));
            if (ReadSeparator(text, ref position, ']'))
            {
                return list;
            }
        }
    }

    /// <summary>After an item: true at the closing bracket, false after a comma (a trailing comma is allowed, as in Python).</summary>
    private static bool ReadSeparator(string text, ref int position, char close)
    {
        SkipSpace(text, ref position);
        var next = Peek(text, position);
        if (next == close)
        {
            position++;
            return true;
        }

        if (next != ',')
        {
            throw Error(text, position, $"expected ',' or '{close}'");
        }

        position++;
        SkipSpace(text, ref position);
        if (Peek(text, position) == close)
        {
            position++;
            return true;
        }

        return false;
    }

    private static string ReadString(string text, ref int position)
    {
        var start = position;
        var quote = text[position++];
        var value = new StringBuilder();
        while (true)
        {
            if (position >= text.Length)
            {
                throw Error(text, start, "a str that is never closed");
            }

            var c = text[position++];
            if (c == quote)
            {
                return value.ToString();
            }

            if (c is '\n' or '\r')
            {
                throw Error(text, position - 1, "a raw line break inside a str (repr writes \\n)");
            }

            if (c != '\\')
            {
                value.Append(c);
                continue;
            }

            if (position >= text.Length)
            {
                throw Error(text, start, "a str that ends in a lone backslash");
            }

            var escape = text[position++];
            switch (escape)
            {
                case '\\': value.Append('\\'); break;
                case '\'': value.Append('\''); break;
                case '"': value.Append('"'); break;
                case 'n': value.Append('\n'); break;
                case 'r': value.Append('\r'); break;
                case 't': value.Append('\t'); break;
                case 'a': value.Append('\a'); break;
                case 'b': value.Append('\b'); break;
                case 'f': value.Append('\f'); break;
                case 'v': value.Append('\v'); break;
                case 'x': AppendCodePoint(value, ReadHex(text, ref position, 2), text, position); break;
                case 'u': AppendCodePoint(value, ReadHex(text, ref position, 4), text, position); break;
                case 'U': AppendCodePoint(value, ReadHex(text, ref position, 8), text, position); break;
                case >= '0' and <= '7': value.Append((char)ReadOctal(text, ref position)); break;
                default: throw Error(text, position - 2, $"the escape \\{escape}, which Python's repr never writes");
            }
        }
    }

    private static int ReadHex(string text, ref int position, int digits)
    {
        if (position + digits > text.Length
            || !int.TryParse(text.AsSpan(position, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
        {
            throw Error(text, position, $"an escape that needs {digits} hex digits");
        }

        position += digits;
        return code;
    }

    // \0 .. \377: up to three octal digits, the first already read.
    private static int ReadOctal(string text, ref int position)
    {
        var code = text[position - 1] - '0';
        for (var i = 0; i < 2 && position < text.Length && text[position] is >= '0' and <= '7'; i++)
        {
            code = (code * 8) + (text[position++] - '0');
        }

        return code;
    }

    private static void AppendCodePoint(StringBuilder value, int code, string text, int position)
    {
        // Lone surrogates cannot be written as UTF-8 (Python 3 itself refuses to encode them), so they cannot be in a file.
        if (code is > 0x10FFFF or (>= 0xD800 and <= 0xDFFF))
        {
            throw Error(text, position, $"the code point U+{code:X}, which is not a character");
        }

        value.Append(char.ConvertFromUtf32(code));
    }

    private static void Expect(string text, ref int position, char expected)
    {
        SkipSpace(text, ref position);
        if (Peek(text, position) != expected)
        {
            throw Error(text, position, $"expected '{expected}'");
        }

        position++;
    }

    private static char? Peek(string text, int position) => position < text.Length ? text[position] : null;

    private static void SkipSpace(string text, ref int position)
    {
        while (position < text.Length && text[position] is ' ' or '\t' or '\n' or '\r')
        {
            position++;
        }
    }

    // The offset only: the text around it may be a message, which must not reach a log.
    private static FormatException Error(string text, int position, string what) =>
        new($"not a Python literal the original wrote: {what} at character {position} of {text.Length}");
}
