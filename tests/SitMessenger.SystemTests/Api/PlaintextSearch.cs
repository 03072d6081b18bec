using System.Text;

namespace SitMessenger.SystemTests.Api;

/// <summary>
/// The byte patterns a piece of plaintext takes when stored carelessly: as is (UTF-8), as hex (pg_dump writes
/// bytea as <c>\x...</c>), and as base64 or base64url at each of the three byte alignments (any base64 text that
/// encodes the marker holds one of these whole).
/// </summary>
internal sealed class PlaintextSearch
{
    private readonly List<(string Form, byte[] Bytes)> _patterns = [];

    public PlaintextSearch(string plaintext)
    {
        ArgumentException.ThrowIfNullOrEmpty(plaintext);
        var bytes = Encoding.UTF8.GetBytes(plaintext);
        _patterns.Add(("plaintext", bytes));
        _patterns.Add(("hex", Encoding.ASCII.GetBytes(Convert.ToHexStringLower(bytes))));
        _patterns.Add(("HEX", Encoding.ASCII.GetBytes(Convert.ToHexString(bytes))));
        for (var skip = 0; skip < 3; skip++)
        {
            var aligned = bytes.AsSpan(skip, (bytes.Length - skip) / 3 * 3);
            var base64 = Convert.ToBase64String(aligned);
            _patterns.Add(($"base64+{skip}", Encoding.ASCII.GetBytes(base64)));
            _patterns.Add(($"base64url+{skip}", Encoding.ASCII.GetBytes(base64.Replace('+', '-').Replace('/', '_'))));
        }

        Longest = _patterns.Max(p => p.Bytes.Length);
    }

    public int Longest { get; }

    /// <summary>The name of the first form found in <paramref name="haystack"/>, or null.</summary>
    public string? Find(ReadOnlySpan<byte> haystack)
    {
        foreach (var (form, bytes) in _patterns)
        {
            if (haystack.IndexOf(bytes) >= 0)
            {
                return form;
            }
        }

        return null;
    }

    public string? Find(string text) => Find(Encoding.UTF8.GetBytes(text ?? ""));

    /// <summary>Reads a file in chunks (overlapping by a pattern's length) so large data files need no large buffers.</summary>
    public string? FindInFile(string path)
    {
        using var stream = new FileStream(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete });
        var buffer = new byte[(1 << 20) + Longest];
        var carried = 0;
        while (true)
        {
            var read = stream.Read(buffer, carried, buffer.Length - carried);
            if (read == 0)
            {
                return null;
            }

            var filled = carried + read;
            if (Find(buffer.AsSpan(0, filled)) is { } form)
            {
                return form;
            }

            carried = Math.Min(Longest - 1, filled);
            buffer.AsSpan(filled - carried, carried).CopyTo(buffer);
        }
    }
}
