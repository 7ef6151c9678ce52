using System.Buffers;
using System.Buffers.Text;
using System.IO.Compression;
using System.Text;

namespace OrleansRooms.Engine;

/// <summary>
/// One outgoing Engine.IO packet, encoded once and shared, unchanged, by every connection it is written to.
/// The buffer holds the WebSocket frame (an unmasked server frame: header, then payload) so a WebSocket writes it
/// as is; long-polling writes the payload (text packets) or <c>b</c> + base64 of it (binary packets). A WebSocket that
/// negotiated <c>permessage-deflate</c> writes <see cref="DeflatedFrame"/> instead, compressed once for all of them.
/// </summary>
internal sealed class EnginePacket
{
    /// <summary>Room left in front of the payload for the largest WebSocket frame header (2 + 8 bytes).</summary>
    internal const int HeaderReserve = 10;

    private readonly byte[] _buffer;
    private readonly int _frameStart;
    private byte[]? _pollingBinary;
    private byte[]? _legacyBinaryFrame;

    // The compressed frame, built at the first write to a WebSocket that negotiated permessage-deflate; NotSmaller
    // when deflate did not make the payload smaller, so the plain frame is sent instead.
    private byte[]? _deflated;

    private static readonly byte[] NotSmaller = [];

    [ThreadStatic]
    private static MemoryStream? t_deflateOutput;

    private EnginePacket(byte[] buffer, int payloadLength, bool isBinary)
    {
        _buffer = buffer;
        PayloadLength = payloadLength;
        IsBinary = isBinary;
        _frameStart = WriteFrameHeader(buffer, payloadLength, isBinary);
    }

    /// <summary>Ping, sent by the server every ping interval.</summary>
    public static EnginePacket Ping { get; } = FromText("2"u8);

    /// <summary>Pong.</summary>
    public static EnginePacket Pong { get; } = FromText("3"u8);

    /// <summary>Noop, used to release a pending long-polling GET during an upgrade.</summary>
    public static EnginePacket Noop { get; } = FromText("6"u8);

    /// <summary>Close.</summary>
    public static EnginePacket Close { get; } = FromText("1"u8);

    /// <summary>True for a binary message; false for every text packet (whose first byte is its type digit).</summary>
    public bool IsBinary { get; }

    /// <summary>Length of <see cref="Payload"/>.</summary>
    public int PayloadLength { get; }

    /// <summary>The packet as Engine.IO writes it on a WebSocket: text packets start with their type digit; binary ones are raw.</summary>
    public ReadOnlyMemory<byte> Payload => _buffer.AsMemory(HeaderReserve, PayloadLength);

    /// <summary>The whole WebSocket frame, header included.</summary>
    public ReadOnlyMemory<byte> WebSocketFrame => _buffer.AsMemory(_frameStart, HeaderReserve - _frameStart + PayloadLength);

    /// <summary>
    /// False once the packet was emitted with <c>Compress(false)</c>: it is then never compressed. Set before the
    /// packet is sent to anyone.
    /// </summary>
    public bool Compress { get; private set; } = true;

    /// <summary>Marks a packet that was just encoded as not to be compressed (<c>Compress(false)</c>).</summary>
    internal void DisableCompression() => Compress = false;

    /// <summary>
    /// The whole WebSocket frame for an Engine.IO v3 session, where a binary message starts with its packet type
    /// (the byte 4); text packets are the same in both revisions.
    /// </summary>
    public ReadOnlyMemory<byte> LegacyWebSocketFrame => IsBinary ? (_legacyBinaryFrame ??= EncodeLegacyBinaryFrame()) : WebSocketFrame;

    /// <summary>The packet as long-polling writes it in a payload (without the 0x1E separator).</summary>
    public ReadOnlyMemory<byte> PollingPayload => IsBinary ? (_pollingBinary ??= EncodePollingBinary()) : Payload;

    /// <summary>A text packet from its UTF-8 bytes, type digit included (for example <c>4hello</c>).</summary>
    public static EnginePacket FromText(ReadOnlySpan<byte> utf8)
    {
        var buffer = new byte[HeaderReserve + utf8.Length];
        utf8.CopyTo(buffer.AsSpan(HeaderReserve));
        return new EnginePacket(buffer, utf8.Length, isBinary: false);
    }

    /// <summary>A text packet from a string, type digit included.</summary>
    public static EnginePacket FromText(string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        var buffer = new byte[HeaderReserve + length];
        Encoding.UTF8.GetBytes(text, buffer.AsSpan(HeaderReserve));
        return new EnginePacket(buffer, length, isBinary: false);
    }

    /// <summary>A binary message packet.</summary>
    public static EnginePacket FromBinary(ReadOnlySpan<byte> data)
    {
        var buffer = new byte[HeaderReserve + data.Length];
        data.CopyTo(buffer.AsSpan(HeaderReserve));
        return new EnginePacket(buffer, data.Length, isBinary: true);
    }

    /// <summary>
    /// Takes ownership of <paramref name="buffer"/>, whose payload starts at <see cref="HeaderReserve"/> and is
    /// <paramref name="payloadLength"/> bytes long; used by encoders that write straight into a right-sized array.
    /// </summary>
    internal static EnginePacket FromReservedBuffer(byte[] buffer, int payloadLength, bool isBinary) =>
        new(buffer, payloadLength, isBinary);

    /// <summary>
    /// The frame a WebSocket with <c>permessage-deflate</c> writes: the payload compressed on its own (no context, as
    /// the server's <c>server_no_context_takeover</c> answer promises), without the final 0x00 0x00 0xFF 0xFF, with
    /// RSV1 set (RFC 7692 §7.2.1); or <see cref="WebSocketFrame"/> when the packet is not to be compressed, is below
    /// <paramref name="threshold"/>, or does not get smaller. Compressed once, at the first call, and shared after.
    /// </summary>
    public ReadOnlyMemory<byte> DeflatedFrame(int threshold, CompressionLevel level)
    {
        if (!Compress || PayloadLength < threshold || PayloadLength == 0)
        {
            return WebSocketFrame;
        }

        var deflated = Volatile.Read(ref _deflated) ?? Deflate(level);
        return deflated.Length == 0 ? WebSocketFrame : deflated.AsMemory(FrameStart(deflated.Length - HeaderReserve));
    }

    private byte[] Deflate(CompressionLevel level)
    {
        // Two writers of the same broadcast wait for one compression rather than each doing it.
        lock (_buffer)
        {
            if (_deflated is { } done)
            {
                return done;
            }

            var output = t_deflateOutput ??= new MemoryStream();
            output.SetLength(0);
            byte[] frame;
            using (var deflate = new DeflateStream(output, level, leaveOpen: true))
            {
                deflate.Write(Payload.Span);
                deflate.Flush();

                // A flush ends with an empty stored block, 0x00 0x00 0xFF 0xFF, which the sender removes (§7.2.1).
                var length = (int)output.Length - 4;
                if (length >= PayloadLength)
                {
                    frame = NotSmaller;
                }
                else
                {
                    frame = new byte[HeaderReserve + length];
                    output.GetBuffer().AsSpan(0, length).CopyTo(frame.AsSpan(HeaderReserve));
                    var start = WriteFrameHeader(frame, length, IsBinary);
                    frame[start] |= 0x40;
                }
            }

            if (output.Capacity > 1 << 20)
            {
                // Keep one large message's buffer no longer than its compression.
                t_deflateOutput = null;
            }

            Volatile.Write(ref _deflated, frame);
            return frame;
        }
    }

    private static int FrameStart(int payloadLength) =>
        payloadLength <= 125 ? HeaderReserve - 2 : payloadLength <= ushort.MaxValue ? HeaderReserve - 4 : 0;

    private static int WriteFrameHeader(byte[] buffer, int payloadLength, bool isBinary)
    {
        // FIN + opcode (1 text, 2 binary); server frames are never masked.
        var first = (byte)(0x80 | (isBinary ? 0x2 : 0x1));
        int start;
        if (payloadLength <= 125)
        {
            start = HeaderReserve - 2;
            buffer[start + 1] = (byte)payloadLength;
        }
        else if (payloadLength <= ushort.MaxValue)
        {
            start = HeaderReserve - 4;
            buffer[start + 1] = 126;
            buffer[start + 2] = (byte)(payloadLength >> 8);
            buffer[start + 3] = (byte)payloadLength;
        }
        else
        {
            start = 0;
            buffer[1] = 127;
            var length = (ulong)payloadLength;
            for (var i = 0; i < 8; i++)
            {
                buffer[2 + i] = (byte)(length >> (8 * (7 - i)));
            }
        }

        buffer[start] = first;
        return start;
    }

    private byte[] EncodeLegacyBinaryFrame()
    {
        var buffer = new byte[HeaderReserve + 1 + PayloadLength];
        buffer[HeaderReserve] = (byte)'4' - (byte)'0';
        Payload.Span.CopyTo(buffer.AsSpan(HeaderReserve + 1));
        var start = WriteFrameHeader(buffer, PayloadLength + 1, isBinary: true);
        return start == 0 ? buffer : buffer.AsSpan(start).ToArray();
    }

    private byte[] EncodePollingBinary()
    {
        var payload = Payload.Span;
        var encoded = new byte[1 + Base64.GetMaxEncodedToUtf8Length(payload.Length)];
        encoded[0] = (byte)'b';
        Base64.EncodeToUtf8(payload, encoded.AsSpan(1), out _, out var written);
        return written + 1 == encoded.Length ? encoded : encoded.AsSpan(0, written + 1).ToArray();
    }
}
