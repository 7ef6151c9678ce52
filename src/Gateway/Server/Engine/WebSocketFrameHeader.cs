using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace OrleansRooms.Engine;

/// <summary>WebSocket opcodes (RFC 6455 §5.2).</summary>
internal enum WebSocketOpcode : byte
{
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
}

/// <summary>
/// The header of one client frame (RFC 6455 §5.2). <see cref="TryRead"/> either reads a whole header or consumes
/// nothing and returns false, so a caller simply waits for more bytes; it never throws on short input.
/// </summary>
internal readonly struct WebSocketFrameHeader
{
    /// <summary>RFC 6455 §7.4.1 status codes the server sends.</summary>
    internal const ushort NormalClosure = 1000;
    internal const ushort ProtocolError = 1002;
    internal const ushort InvalidPayloadData = 1007;
    internal const ushort MessageTooBig = 1009;

    internal const int MaxControlPayload = 125;

    private WebSocketFrameHeader(byte first, byte second, long payloadLength, int maskKey)
    {
        First = first;
        Second = second;
        PayloadLength = payloadLength;
        MaskKey = maskKey;
    }

    private byte First { get; }

    private byte Second { get; }

    public bool Fin => (First & 0x80) != 0;

    public int ReservedBits => (First >> 4) & 0x7;

    /// <summary>RSV1: with <c>permessage-deflate</c>, the message this frame starts is compressed.</summary>
    public bool IsCompressed => (First & 0x40) != 0;

    public WebSocketOpcode Opcode => (WebSocketOpcode)(First & 0x0F);

    public bool IsControl => (First & 0x08) != 0;

    public bool IsMasked => (Second & 0x80) != 0;

    public long PayloadLength { get; }

    /// <summary>The four masking bytes in wire order, read as a little-endian integer.</summary>
    public int MaskKey { get; }

    /// <summary>Reads a header if all of it is buffered; otherwise leaves <paramref name="reader"/> where it was.</summary>
    public static bool TryRead(ref SequenceReader<byte> reader, out WebSocketFrameHeader header)
    {
        var probe = reader;
        header = default;
        if (!probe.TryRead(out var first) || !probe.TryRead(out var second))
        {
            return false;
        }

        long length = second & 0x7F;
        if (length == 126)
        {
            if (!probe.TryReadBigEndian(out short length16))
            {
                return false;
            }

            length = (ushort)length16;
        }
        else if (length == 127)
        {
            if (!probe.TryReadBigEndian(out long length64))
            {
                return false;
            }

            // The most significant bit must be 0; a negative value is flagged by Validate.
            length = length64;
        }

        var maskKey = 0;
        if ((second & 0x80) != 0 && !probe.TryReadLittleEndian(out maskKey))
        {
            return false;
        }

        header = new WebSocketFrameHeader(first, second, length, maskKey);
        reader = probe;
        return true;
    }

    /// <summary>The close status a header alone makes necessary (0 when it is acceptable), with why.</summary>
    public ushort Validate(out string why) => Validate(perMessageDeflate: false, out why);

    /// <summary>
    /// As <see cref="Validate(out string)"/>; with <paramref name="perMessageDeflate"/> negotiated, RSV1 may mark the
    /// first frame of a text or binary message as compressed (RFC 7692 §6), never a continuation or control frame.
    /// </summary>
    public ushort Validate(bool perMessageDeflate, out string why)
    {
        why = string.Empty;
        var allowed = perMessageDeflate && Opcode is WebSocketOpcode.Text or WebSocketOpcode.Binary ? 0x4 : 0;
        if ((ReservedBits & ~allowed) != 0)
        {
            why = "reserved bits set without an extension";
            return ProtocolError;
        }

        if (!IsMasked)
        {
            why = "client frame not masked";
            return ProtocolError;
        }

        if (PayloadLength < 0)
        {
            why = "payload length out of range";
            return ProtocolError;
        }

        switch (Opcode)
        {
            case WebSocketOpcode.Continuation:
            case WebSocketOpcode.Text:
            case WebSocketOpcode.Binary:
                return 0;
            case WebSocketOpcode.Close:
            case WebSocketOpcode.Ping:
            case WebSocketOpcode.Pong:
                if (!Fin || PayloadLength > MaxControlPayload)
                {
                    why = "control frame fragmented or longer than 125 bytes";
                    return ProtocolError;
                }

                return 0;
            default:
                why = "unknown opcode";
                return ProtocolError;
        }
    }

    /// <summary>XORs <paramref name="data"/> with the mask, starting at mask offset 0.</summary>
    public static void Unmask(Span<byte> data, int maskKey)
    {
        Span<byte> mask8 = stackalloc byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(mask8, maskKey);
        BinaryPrimitives.WriteInt32LittleEndian(mask8[4..], maskKey);
        var wide = MemoryMarshal.Read<ulong>(mask8);

        var whole = data.Length & ~7;
        var words = MemoryMarshal.Cast<byte, ulong>(data[..whole]);
        for (var i = 0; i < words.Length; i++)
        {
            words[i] ^= wide;
        }

        for (var i = whole; i < data.Length; i++)
        {
            data[i] ^= mask8[i & 3];
        }
    }

    /// <summary>An unmasked server frame carrying <paramref name="payload"/> (control frames: at most 125 bytes).</summary>
    public static byte[] BuildControlFrame(WebSocketOpcode opcode, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[2 + payload.Length];
        frame[0] = (byte)(0x80 | (byte)opcode);
        frame[1] = (byte)payload.Length;
        payload.CopyTo(frame.AsSpan(2));
        return frame;
    }

    /// <summary>A close frame with a status code (and no reason).</summary>
    public static byte[] BuildCloseFrame(ushort status)
    {
        Span<byte> code = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(code, status);
        return BuildControlFrame(WebSocketOpcode.Close, code);
    }

    /// <summary>Whether a status code received in a close frame is one a peer may send (RFC 6455 §7.4).</summary>
    public static bool IsValidReceivedCloseStatus(ushort status) =>
        status is (>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999);
}
