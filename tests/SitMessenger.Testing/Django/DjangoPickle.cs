using System.Buffers.Binary;
using System.Text;

namespace SitMessenger.Testing.Django;

/// <summary>
/// Writes what django-redis stored for <c>cache.set('messages.&lt;id&gt;', {'messages': [...]})</c>: CPython's pickle
/// protocol 4 of that dict (MEMOIZE after each new object, BINGET for a string met before, as CPython's memo does for
/// the shared key and username strings; SETITEMS/APPENDS in batches, one FRAME around it all).
/// </summary>
public static class DjangoPickle
{
    public static byte[] Messages(IEnumerable<DjangoLine> lines)
    {
        var body = new MemoryStream();
        var memo = new Dictionary<string, int>(StringComparer.Ordinal);
        var next = 0;

        void Memoize() { body.WriteByte(0x94); next++; }

        void Str(string value)
        {
            if (memo.TryGetValue(value, out var index))
            {
                if (index < 256)
                {
                    body.WriteByte((byte)'h');
                    body.WriteByte((byte)index);
                }
                else
                {
                    body.WriteByte((byte)'j');
                    Span<byte> at = stackalloc byte[4];
                    BinaryPrimitives.WriteUInt32LittleEndian(at, (uint)index);
                    body.Write(at);
                }

                return;
            }

            var bytes = Encoding.UTF8.GetBytes(value);
            if (bytes.Length < 256)
            {
                body.WriteByte(0x8c);
                body.WriteByte((byte)bytes.Length);
            }
            else
            {
                body.WriteByte((byte)'X');
                Span<byte> length = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)bytes.Length);
                body.Write(length);
            }

            body.Write(bytes);
            memo[value] = next;
            Memoize();
        }

        body.WriteByte((byte)'}');
        Memoize();
        Str("messages");
        body.WriteByte((byte)']');
        Memoize();
        // CPython batches APPENDS by 1,000 items.
        foreach (var batch in lines.Chunk(1000))
        {
            body.WriteByte((byte)'(');
            foreach (var line in batch)
            {
                body.WriteByte((byte)'}');
                Memoize();
                body.WriteByte((byte)'(');
                Str("datetime");
                Str(line.Datetime);
                Str("user");
                Str(line.User);
                Str("message");
                Str(line.Message);
                body.WriteByte((byte)'u');
            }

            body.WriteByte((byte)'e');
        }

        body.WriteByte((byte)'s');
        body.WriteByte((byte)'.');

        var pickle = new MemoryStream();
        pickle.Write([0x80, 0x04, 0x95]);
        Span<byte> frame = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(frame, (ulong)body.Length);
        pickle.Write(frame);
        body.Position = 0;
        body.CopyTo(pickle);
        return pickle.ToArray();
    }
}
