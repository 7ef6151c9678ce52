using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace OrleansRooms.Engine;

/// <summary>
/// The long-polling payload of Engine.IO v3, both ways. Text framing is <c>&lt;length&gt;:&lt;packet&gt;</c> per packet,
/// the length counted in UTF-16 characters, binary packets written <c>b4&lt;base64&gt;</c>. A client that reads binary
/// (XHR2: browsers; it did not send <c>b64=1</c>) gets a payload holding binary packets in the binary framing instead:
/// per packet a 0 (text) or 1 (binary) byte, the length's decimal digits as bytes 0-9, the byte 255, then the packet
/// (text as UTF-8, its length in bytes; binary with its type byte 4 first), and sends its own that way
/// (<c>application/octet-stream</c>).
/// </summary>
internal static class LegacyPollingPayload
{
    private const byte MessageType = 4;
    private const byte LengthEnd = 255;
    private const int MaxLengthDigits = 10;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Writes <paramref name="packets"/> as one payload into the response (status, type, length and body; not flushed).</summary>
    public static void Write(HttpResponse response, ReadOnlySpan<EnginePacket> packets, bool binaryPolling)
    {
        var binary = false;
        if (binaryPolling)
        {
            foreach (var packet in packets)
            {
                binary |= packet.IsBinary;
            }
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = binary ? "application/octet-stream" : "text/plain; charset=UTF-8";
        long length = 0;
        foreach (var packet in packets)
        {
            if (binary)
            {
                var size = BinaryFramedSize(packet);
                length += 1 + DigitCount(size) + 1 + size;
            }
            else
            {
                length += DigitCount(TextFramedLength(packet)) + 1 + TextFramedSize(packet);
            }
        }

        response.ContentLength = length;
        var writer = response.BodyWriter;
        foreach (var packet in packets)
        {
            if (binary)
            {
                WriteBinaryFramed(writer, packet);
            }
            else
            {
                WriteTextFramed(writer, packet);
            }
        }
    }

    /// <summary>
    /// Reads a POST's payload (text or binary framing, by its content type) and hands each packet to the session; stops
    /// at an invalid packet or at the session's close. The body is read whole first: at most <paramref name="max"/> bytes.
    /// </summary>
    public static async Task<PostOutcome> ReadAsync(HttpRequest request, int max, EngineSession session)
    {
        if (request.ContentLength > max)
        {
            return PostOutcome.TooLarge;
        }

        var body = new ArrayBufferWriter<byte>();
        var reader = request.BodyReader;
        while (true)
        {
            // Every read is consumed in full (see PollingPayloadReader for why).
            var result = await reader.ReadAsync();
            var buffer = result.Buffer;
            if (body.WrittenCount + buffer.Length > max)
            {
                reader.AdvanceTo(buffer.End);
                return PostOutcome.TooLarge;
            }

            foreach (var segment in buffer)
            {
                body.Write(segment.Span);
            }

            reader.AdvanceTo(buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        var isBinary = request.ContentType?.StartsWith("application/octet-stream", StringComparison.OrdinalIgnoreCase) == true;
        var bytes = body.WrittenMemory;
        var outcome = isBinary ? ReadBinaryFramed(bytes, session) : ReadTextFramed(bytes, session);
        return outcome == PacketResult.Invalid ? PostOutcome.Invalid : PostOutcome.Ok;
    }

    private static PacketResult ReadTextFramed(ReadOnlyMemory<byte> body, EngineSession session)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(body.Span);
        }
        catch (ArgumentException)
        {
            return session.ParseError();
        }

        if (text.Length == 0)
        {
            return session.ParseError();
        }

        var position = 0;
        while (position < text.Length)
        {
            var colon = text.IndexOf(':', position);
            if (colon <= position || colon - position > MaxLengthDigits
                || !int.TryParse(text.AsSpan(position, colon - position), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var length)
                || length > text.Length - colon - 1)
            {
                return session.ParseError();
            }

            position = colon + 1 + length;
            if (length == 0)
            {
                continue;
            }

            byte[] packet;
            try
            {
                packet = StrictUtf8.GetBytes(text, colon + 1, length);
            }
            catch (ArgumentException)
            {
                // A length that cuts a surrogate pair.
                return session.ParseError();
            }

            var result = session.ReceivePacket(new ReadOnlySequence<byte>(packet), isBinary: false, fromPolling: true);
            if (result != PacketResult.Continue)
            {
                return result;
            }
        }

        return PacketResult.Continue;
    }

    private static PacketResult ReadBinaryFramed(ReadOnlyMemory<byte> body, EngineSession session)
    {
        if (body.IsEmpty)
        {
            return session.ParseError();
        }

        var span = body.Span;
        var position = 0;
        while (position < span.Length)
        {
            var kind = span[position++];
            if (kind > 1)
            {
                return session.ParseError();
            }

            long length = 0;
            var digits = 0;
            while (position < span.Length && span[position] != LengthEnd)
            {
                if (span[position] > 9 || ++digits > MaxLengthDigits)
                {
                    return session.ParseError();
                }

                length = (length * 10) + span[position++];
            }

            if (digits == 0 || position == span.Length || length > span.Length - position - 1)
            {
                return session.ParseError();
            }

            position++;
            var packet = new ReadOnlySequence<byte>(body.Slice(position, (int)length));
            position += (int)length;
            var result = session.ReceivePacket(packet, isBinary: kind == 1, fromPolling: true);
            if (result != PacketResult.Continue)
            {
                return result;
            }
        }

        return PacketResult.Continue;
    }

    // Text framing: the packet as characters ("4hello", or "b4" + base64): its size in UTF-8 bytes, and its length
    // (the prefix) in UTF-16 units.
    private static int TextFramedSize(EnginePacket packet) =>
        packet.IsBinary ? 2 + Base64.GetMaxEncodedToUtf8Length(packet.PayloadLength) : packet.PayloadLength;

    private static int TextFramedLength(EnginePacket packet) =>
        packet.IsBinary ? TextFramedSize(packet) : Encoding.UTF8.GetCharCount(packet.Payload.Span);

    private static void WriteTextFramed(PipeWriter writer, EnginePacket packet)
    {
        var payload = packet.Payload.Span;
        WriteDigits(writer, TextFramedLength(packet), asText: true);
        var colon = writer.GetSpan(1);
        colon[0] = (byte)':';
        writer.Advance(1);
        if (!packet.IsBinary)
        {
            writer.Write(payload);
            return;
        }

        var size = TextFramedSize(packet);
        var span = writer.GetSpan(size);
        span[0] = (byte)'b';
        span[1] = (byte)'4';
        Base64.EncodeToUtf8(payload, span[2..], out _, out var written);
        writer.Advance(2 + written);
    }

    // Binary framing: text as its UTF-8 bytes; binary with its type byte first.
    private static int BinaryFramedSize(EnginePacket packet) => packet.PayloadLength + (packet.IsBinary ? 1 : 0);

    private static void WriteBinaryFramed(PipeWriter writer, EnginePacket packet)
    {
        var kind = writer.GetSpan(1);
        kind[0] = packet.IsBinary ? (byte)1 : (byte)0;
        writer.Advance(1);
        WriteDigits(writer, BinaryFramedSize(packet), asText: false);
        var end = writer.GetSpan(packet.IsBinary ? 2 : 1);
        end[0] = LengthEnd;
        if (packet.IsBinary)
        {
            end[1] = MessageType;
        }

        writer.Advance(packet.IsBinary ? 2 : 1);
        writer.Write(packet.Payload.Span);
    }

    /// <summary>A length's decimal digits: as ASCII for text framing, as byte values 0-9 for binary framing.</summary>
    private static void WriteDigits(PipeWriter writer, int value, bool asText)
    {
        var span = writer.GetSpan(MaxLengthDigits);
        value.TryFormat(span, out var written, provider: System.Globalization.CultureInfo.InvariantCulture);
        if (!asText)
        {
            for (var i = 0; i < written; i++)
            {
                span[i] -= (byte)'0';
            }
        }

        writer.Advance(written);
    }

    private static int DigitCount(int value)
    {
        var count = 1;
        while (value >= 10)
        {
            value /= 10;
            count++;
        }

        return count;
    }
}
