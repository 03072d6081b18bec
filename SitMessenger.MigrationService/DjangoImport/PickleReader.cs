using System.Buffers.Binary;
using System.Text;

namespace SitMessenger.MigrationService.DjangoImport;

/// <summary>
/// Reads the pickles django-redis stored the original's unflushed messages as: a dict of str to a list of dicts of
/// str, in protocol 2 to 5. Only the opcodes such a pickle is made of are understood (containers, str, memo, framing);
/// anything else, above all the opcodes that import or call (GLOBAL, REDUCE, BUILD, ...), is refused with its name.
/// Nothing is ever looked up or executed: the result is plain dictionaries, lists and strings.
/// </summary>
internal static class PickleReader
{
    // What one chat's cache entry can reasonably hold; a larger count is a corrupt or hostile pickle, not a chat.
    private const int MaxStack = 1_000_000;

    /// <summary>A <see cref="Dictionary{TKey,TValue}"/> of string, <see cref="List{T}"/> or string.</summary>
    /// <exception cref="FormatException">Not such a pickle; the message names the opcode or the problem.</exception>
    public static object Read(ReadOnlySpan<byte> data)
    {
        var stack = new List<object>();
        var marks = new Stack<int>();
        var memo = new Dictionary<long, object>();
        var position = 0;
        while (true)
        {
            if (position >= data.Length)
            {
                throw Error(position, "the pickle ends before its STOP opcode");
            }

            var at = position;
            var opcode = data[position++];
            switch (opcode)
            {
                case 0x80: // PROTO
                    var protocol = Take(data, ref position, 1)[0];
                    if (protocol is < 2 or > 5)
                    {
                        throw Error(at, $"pickle protocol {protocol}; django-redis writes 2 to 5");
                    }

                    break;
                case 0x95: // FRAME: an 8-byte length that only helps readers buffer; the opcodes continue inline.
                    Take(data, ref position, 8);
                    break;
                case (byte)'}': // EMPTY_DICT
                    Push(stack, new Dictionary<string, object>(StringComparer.Ordinal), at);
                    break;
                case (byte)']': // EMPTY_LIST
                    Push(stack, new List<object>(), at);
                    break;
                case (byte)'(': // MARK
                    marks.Push(stack.Count);
                    break;
                case 0x8c: // SHORT_BINUNICODE
                    Push(stack, Utf8(data, ref position, Take(data, ref position, 1)[0], at), at);
                    break;
                case (byte)'X': // BINUNICODE
                    Push(stack, Utf8(data, ref position, BinaryPrimitives.ReadUInt32LittleEndian(Take(data, ref position, 4)), at), at);
                    break;
                case 0x8d: // BINUNICODE8
                    Push(stack, Utf8(data, ref position, BinaryPrimitives.ReadUInt64LittleEndian(Take(data, ref position, 8)), at), at);
                    break;
                case 0x94: // MEMOIZE
                    memo[memo.Count] = Top(stack, at);
                    break;
                case (byte)'q': // BINPUT
                    memo[Take(data, ref position, 1)[0]] = Top(stack, at);
                    break;
                case (byte)'r': // LONG_BINPUT
                    memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(data, ref position, 4))] = Top(stack, at);
                    break;
                case (byte)'h': // BINGET
                    Push(stack, Recall(memo, Take(data, ref position, 1)[0], at), at);
                    break;
                case (byte)'j': // LONG_BINGET
                    Push(stack, Recall(memo, BinaryPrimitives.ReadUInt32LittleEndian(Take(data, ref position, 4)), at), at);
                    break;
                case (byte)'a': // APPEND
                    {
                        var item = Pop(stack, at);
                        ListAt(stack, stack.Count - 1, at).Add(item);
                        break;
                    }

                case (byte)'e': // APPENDS
                    {
                        var mark = PopMark(marks, at);
                        var list = ListAt(stack, mark - 1, at);
                        list.AddRange(stack.Skip(mark));
                        stack.RemoveRange(mark, stack.Count - mark);
                        break;
                    }

                case (byte)'s': // SETITEM
                    {
                        var value = Pop(stack, at);
                        var key = Pop(stack, at);
                        SetItem(DictAt(stack, stack.Count - 1, at), key, value, at);
                        break;
                    }

                case (byte)'u': // SETITEMS
                    {
                        var mark = PopMark(marks, at);
                        if ((stack.Count - mark) % 2 != 0)
                        {
                            throw Error(at, "SETITEMS with a key that has no value");
                        }

                        var dict = DictAt(stack, mark - 1, at);
                        for (var i = mark; i < stack.Count; i += 2)
                        {
                            SetItem(dict, stack[i], stack[i + 1], at);
                        }

                        stack.RemoveRange(mark, stack.Count - mark);
                        break;
                    }

                case (byte)'.': // STOP
                    if (stack.Count != 1 || marks.Count != 0)
                    {
                        throw Error(at, $"STOP with {stack.Count} values on the stack instead of one");
                    }

                    if (position != data.Length)
                    {
                        throw Error(position, "bytes after the STOP opcode");
                    }

                    return stack[0];
                default:
                    throw Error(at, $"opcode 0x{opcode:x2} ({Name(opcode)}), which a pickled dict of lists of str never holds; refused");
            }
        }
    }

    private static ReadOnlySpan<byte> Take(ReadOnlySpan<byte> data, ref int position, int count)
    {
        if (position + count > data.Length)
        {
            throw Error(position, "the pickle ends inside an opcode's argument");
        }

        var taken = data.Slice(position, count);
        position += count;
        return taken;
    }

    private static string Utf8(ReadOnlySpan<byte> data, ref int position, ulong length, int at)
    {
        if (length > (ulong)(data.Length - position))
        {
            throw Error(at, "a str longer than the rest of the pickle");
        }

        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Take(data, ref position, (int)length));
        }
        catch (DecoderFallbackException)
        {
            throw Error(at, "a str that is not valid UTF-8");
        }
    }

    private static void Push(List<object> stack, object value, int at)
    {
        if (stack.Count >= MaxStack)
        {
            throw Error(at, $"more than {MaxStack} values on the stack");
        }

        stack.Add(value);
    }

    private static object Top(List<object> stack, int at) => stack.Count > 0 ? stack[^1] : throw Error(at, "a memo store with an empty stack");

    private static object Pop(List<object> stack, int at)
    {
        if (stack.Count == 0)
        {
            throw Error(at, "an opcode that needs a value on an empty stack");
        }

        var value = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return value;
    }

    private static int PopMark(Stack<int> marks, int at) =>
        marks.TryPop(out var mark) && mark > 0 ? mark : throw Error(at, "APPENDS or SETITEMS without a MARK after its container");

    private static object Recall(Dictionary<long, object> memo, long index, int at) =>
        memo.TryGetValue(index, out var value) ? value : throw Error(at, $"a memo get of slot {index}, never stored");

    private static List<object> ListAt(List<object> stack, int index, int at) =>
        index >= 0 && index < stack.Count && stack[index] is List<object> list ? list : throw Error(at, "APPEND(S) onto something that is not a list");

    private static Dictionary<string, object> DictAt(List<object> stack, int index, int at) =>
        index >= 0 && index < stack.Count && stack[index] is Dictionary<string, object> dict ? dict : throw Error(at, "SETITEM(S) onto something that is not a dict");

    private static void SetItem(Dictionary<string, object> dict, object key, object value, int at)
    {
        if (key is not string text)
        {
            throw Error(at, "a dict key that is not a str");
        }

        dict[text] = value;
    }

    private static string Name(byte opcode) => opcode switch
    {
        (byte)'c' => "GLOBAL",
        0x93 => "STACK_GLOBAL",
        (byte)'R' => "REDUCE",
        (byte)'b' => "BUILD",
        (byte)'i' => "INST",
        (byte)'o' => "OBJ",
        0x81 => "NEWOBJ",
        0x92 => "NEWOBJ_EX",
        (byte)'J' or (byte)'K' or (byte)'M' or (byte)'I' or (byte)'L' or 0x8a or 0x8b => "an integer",
        (byte)'G' or (byte)'F' => "a float",
        (byte)'N' => "None",
        0x88 or 0x89 => "a bool",
        (byte)'t' or 0x85 or 0x86 or 0x87 or (byte)')' => "a tuple",
        _ => "not read here",
    };

    private static FormatException Error(int offset, string what) => new($"not a pickle of the original's cached messages: {what} (byte {offset})");
}
