using System.Text;
using CsCheck;

namespace OrleansRooms.Tests.Fuzz;

/// <summary>
/// A mutation fuzzer as a CsCheck generator: a seed from a corpus of valid inputs, then a few byte-level edits of the
/// kinds AFL and libFuzzer make (bit flips, interesting bytes, inserted dictionary tokens, deleted, duplicated or
/// spliced ranges, truncation). CsCheck draws every choice from one seeded PCG, so a failure is reproduced from its
/// seed and shrunk towards the seed input with fewer edits.
/// </summary>
internal static class Mutator
{
    /// <summary>Inputs longer than this are cut: the parsers' limits are tested elsewhere, this is about shapes.</summary>
    public const int MaxLength = 4096;

    private static readonly byte[] Interesting =
    [
        0x00, 0x01, 0x1E, 0x20, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xF8, 0xFF,
        (byte)'0', (byte)'1', (byte)'9', (byte)'-', (byte)'/', (byte)',', (byte)'[', (byte)']', (byte)'{', (byte)'}',
        (byte)'"', (byte)'\\', (byte)':', (byte)'b', (byte)'u', (byte)'e', (byte)'.', (byte)'4', (byte)'5', (byte)'6',
    ];

    /// <summary>Tokens worth inserting whole: JSON and Socket.IO syntax, and values at the edges of what is allowed.</summary>
    public static readonly byte[][] Tokens =
    [
        .. new[]
        {
            "\\ud800", "\\udc00", "\\ud83d\\ude00", "\\u0000", "\\\\", "\\\"", "\"", "[", "]", "{", "}", "[[[[[[[[[[[[[[[[", "]]]]]]]]",
            "{\"_placeholder\":true,\"num\":0}", "{\"_placeholder\":true,\"num\":99}", "{\"_placeholder\":true}", "\"_placeholder\"",
            "\"num\":", "null", "true", "1e999", "-0", "0.5", "9007199254740991", "9007199254740992", "2147483648",
            "99999999999999999999999", "/admin,", "/", ",", "10-", "0-", "4294967296-", "\"disconnect\"", "\"connect\"",
            "\u00e9", "\U0001F600", "\r\n", "\u001b[31m", "\u001e", "4", "b", "2probe", "3probe", "5",
        }.Select(Encoding.UTF8.GetBytes),
        [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFE, 0xFF],
    ];

    /// <summary>A seed from <paramref name="corpus"/> with 0 to <paramref name="maxEdits"/> edits.</summary>
    public static Gen<byte[]> Of(IReadOnlyList<byte[]> corpus, int maxEdits = 6)
    {
        var edit = Gen.Select(Gen.Int[0, 8], Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue], Gen.Byte,
            (kind, at, arg, value) => new Edit(kind, at, arg, value));
        return Gen.Select(Gen.Int[0, corpus.Count - 1], edit.Array[0, maxEdits], (seed, edits) => Apply(corpus, seed, edits));
    }

    /// <summary>Strings as UTF-8, the form every corpus takes.</summary>
    public static byte[][] Utf8(IEnumerable<string> texts) => [.. texts.Select(Encoding.UTF8.GetBytes)];

    private static byte[] Apply(IReadOnlyList<byte[]> corpus, int seed, Edit[] edits)
    {
        var bytes = new List<byte>(corpus[seed]);
        foreach (var e in edits)
        {
            var count = bytes.Count;
            var at = count == 0 ? 0 : e.At % count;
            switch (e.Kind)
            {
                case 0 when count > 0: // flip a bit
                    bytes[at] ^= (byte)(1 << (e.Arg % 8));
                    break;
                case 1 when count > 0: // an interesting or random byte
                    bytes[at] = e.Arg % 2 == 0 ? Interesting[e.Arg / 2 % Interesting.Length] : e.Value;
                    break;
                case 2: // insert a byte
                    bytes.Insert(e.At % (count + 1), e.Arg % 2 == 0 ? Interesting[e.Arg / 2 % Interesting.Length] : e.Value);
                    break;
                case 3 when count > 0: // delete a range
                    bytes.RemoveRange(at, Math.Min(1 + (e.Arg % 8), count - at));
                    break;
                case 4 when count > 0: // duplicate a range
                    bytes.InsertRange(at, bytes.GetRange(at, Math.Min(1 + (e.Arg % 32), count - at)));
                    break;
                case 5 or 6: // insert a dictionary token
                    bytes.InsertRange(e.At % (count + 1), Tokens[e.Arg % Tokens.Length]);
                    break;
                case 7: // splice: this input's head, another seed's tail
                    var other = corpus[e.Arg % corpus.Count];
                    bytes.RemoveRange(at, count - at);
                    bytes.AddRange(other.AsSpan(other.Length == 0 ? 0 : e.Value % other.Length).ToArray());
                    break;
                case 8: // truncate
                    bytes.RemoveRange(e.At % (count + 1), count - (e.At % (count + 1)));
                    break;
            }

            if (bytes.Count > MaxLength)
            {
                bytes.RemoveRange(MaxLength, bytes.Count - MaxLength);
            }
        }

        return [.. bytes];
    }

    private readonly record struct Edit(int Kind, int At, int Arg, byte Value);
}
