using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace OrleansRooms.Silo.Redis;

/// <summary>
/// Reads RESP2 replies from a byte sequence. <see cref="TryRead"/> returns false, consuming nothing, while the
/// sequence holds only part of a reply; malformed input (not partial input) throws <see cref="RedisProtocolException"/>.
/// </summary>
internal static class RedisReplyParser
{
    // Replies nest a few levels at most (CLUSTER SHARDS is the deepest we read); the cap keeps bad input off the stack.
    private const int MaxDepth = 32;

    public static bool TryRead(ref SequenceReader<byte> reader, out RedisReply reply)
    {
        var attempt = reader;
        if (!TryReadValue(ref attempt, 0, out reply))
        {
            reply = default;
            return false;
        }

        reader = attempt;
        return true;
    }

    private static bool TryReadValue(ref SequenceReader<byte> reader, int depth, out RedisReply reply)
    {
        reply = default;
        if (!reader.TryRead(out byte prefix))
        {
            return false;
        }

        switch (prefix)
        {
            case (byte)'+':
                if (!TryReadLine(ref reader, out var simple))
                {
                    return false;
                }

                reply = RedisReply.SimpleString(DecodeSimple(simple));
                return true;
            case (byte)'-':
                if (!TryReadLine(ref reader, out var error))
                {
                    return false;
                }

                reply = RedisReply.Error(Encoding.UTF8.GetString(error));
                return true;
            case (byte)':':
                if (!TryReadLine(ref reader, out var integer))
                {
                    return false;
                }

                reply = RedisReply.Integer(ParseInteger(integer));
                return true;
            case (byte)'$':
                return TryReadBulk(ref reader, out reply);
            case (byte)'*':
                return TryReadArray(ref reader, depth, out reply);
            default:
                throw new RedisProtocolException($"Unexpected RESP type byte 0x{prefix:X2}.");
        }
    }

    private static bool TryReadBulk(ref SequenceReader<byte> reader, out RedisReply reply)
    {
        reply = default;
        if (!TryReadLine(ref reader, out var header))
        {
            return false;
        }

        long length = ParseInteger(header);
        if (length == -1)
        {
            reply = RedisReply.Bulk(null);
            return true;
        }

        if (length is < 0 or > 512L * 1024 * 1024)
        {
            throw new RedisProtocolException($"Invalid bulk string length {length}.");
        }

        if (reader.Remaining < length + 2)
        {
            return false;
        }

        byte[] bytes = length == 0 ? System.Array.Empty<byte>() : new byte[length];
        reader.TryCopyTo(bytes);
        reader.Advance(length);
        if (!reader.IsNext("\r\n"u8, advancePast: true))
        {
            throw new RedisProtocolException("A bulk string is not followed by CRLF.");
        }

        reply = RedisReply.Bulk(bytes);
        return true;
    }

    private static bool TryReadArray(ref SequenceReader<byte> reader, int depth, out RedisReply reply)
    {
        reply = default;
        if (!TryReadLine(ref reader, out var header))
        {
            return false;
        }

        long count = ParseInteger(header);
        if (count == -1)
        {
            reply = RedisReply.Array(null);
            return true;
        }

        if (count < 0 || count > int.MaxValue || depth >= MaxDepth)
        {
            throw new RedisProtocolException($"Invalid array length {count} at depth {depth}.");
        }

        // Every element takes at least 3 bytes, so an array longer than what could be buffered is still incomplete: do not allocate for it yet.
        if (reader.Remaining < count * 3)
        {
            return false;
        }

        var items = count == 0 ? System.Array.Empty<RedisReply>() : new RedisReply[count];
        for (int i = 0; i < items.Length; i++)
        {
            if (!TryReadValue(ref reader, depth + 1, out items[i]))
            {
                return false;
            }
        }

        reply = RedisReply.Array(items);
        return true;
    }

    private static bool TryReadLine(ref SequenceReader<byte> reader, out ReadOnlySpan<byte> line)
    {
        if (!reader.TryReadTo(out line, "\r\n"u8, advancePastDelimiter: true))
        {
            return false;
        }

        return true;
    }

    private static long ParseInteger(ReadOnlySpan<byte> digits)
    {
        if (Utf8Parser.TryParse(digits, out long value, out int consumed) && consumed == digits.Length && digits.Length > 0)
        {
            return value;
        }

        throw new RedisProtocolException($"Invalid RESP integer '{Encoding.ASCII.GetString(digits)}'.");
    }

    // The common status replies come back as cached strings, so OK and PONG do not allocate.
    private static string DecodeSimple(ReadOnlySpan<byte> text)
    {
        if (text.SequenceEqual("OK"u8))
        {
            return "OK";
        }

        if (text.SequenceEqual("PONG"u8))
        {
            return "PONG";
        }

        if (text.SequenceEqual("QUEUED"u8))
        {
            return "QUEUED";
        }

        return Encoding.UTF8.GetString(text);
    }
}
