using System.Buffers;
using System.Text;
using OrleansRooms.Grains;

namespace OrleansRooms.Silo.Messaging;

/// <summary>
/// The binary frame of a <see cref="ClusterMessage"/> between gateways: a version byte, the type and flags, then
/// length-prefixed fields (namespace, source, request id, rooms, except, target rooms, count, data, attachments).
/// Lengths and counts are unsigned LEB128 varints; <see cref="ClusterMessage.Count"/> is zigzag-encoded.
/// A message is encoded once per publish, whatever the number of gateways it goes to.
/// </summary>
internal static class ClusterMessageCodec
{
    /// <summary>The frame version; a receiver drops frames of a version it does not know.</summary>
    public const byte Version = 1;

    // Guards against a corrupt count allocating a huge list before the payload runs out.
    private const int MaxItems = 1 << 20;

    /// <summary>The exact number of bytes <see cref="Encode(ClusterMessage, Span{byte})"/> writes.</summary>
    public static int GetEncodedLength(ClusterMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        int length = 3 + StringLength(message.Namespace) + StringLength(message.Source) + StringLength(message.RequestId)
            + ListLength(message.Rooms) + ListLength(message.Except) + ListLength(message.TargetRooms)
            + VarintLength(ZigZag(message.Count)) + BytesLength(message.Data.Length) + VarintLength((uint)message.Attachments.Count);
        foreach (var attachment in message.Attachments)
        {
            length += BytesLength(attachment.Length);
        }

        return length;
    }

    /// <summary>Writes the frame into <paramref name="destination"/> (at least <see cref="GetEncodedLength"/> bytes); returns its length.</summary>
    public static int Encode(ClusterMessage message, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(message);
        var writer = new Writer(destination);
        writer.Byte(Version);
        writer.Byte((byte)message.Type);
        writer.Byte((byte)message.Flags);
        writer.String(message.Namespace);
        writer.String(message.Source);
        writer.String(message.RequestId);
        writer.List(message.Rooms);
        writer.List(message.Except);
        writer.List(message.TargetRooms);
        writer.Varint(ZigZag(message.Count));
        writer.Bytes(message.Data.Span);
        writer.Varint((uint)message.Attachments.Count);
        foreach (var attachment in message.Attachments)
        {
            writer.Bytes(attachment.Span);
        }

        return writer.Position;
    }

    /// <summary>Encodes into a buffer rented from <see cref="ArrayPool{T}.Shared"/>; the caller returns it when the bytes are no longer read.</summary>
    public static byte[] EncodePooled(ClusterMessage message, out int length)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(GetEncodedLength(message));
        length = Encode(message, buffer);
        return buffer;
    }

    /// <summary>An array holding exactly the frame (tests, and callers that keep it).</summary>
    public static byte[] Encode(ClusterMessage message)
    {
        var bytes = new byte[GetEncodedLength(message)];
        Encode(message, bytes);
        return bytes;
    }

    /// <summary>
    /// Reads a frame. The message owns its memory (data and attachments are slices of one copy), so it outlives the
    /// subscription callback whose payload it was read from. Returns false for a truncated, corrupt or unknown-version frame.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> frame, out ClusterMessage? message)
    {
        message = null;
        if (frame.Length < 3 || frame[0] != Version)
        {
            return false;
        }

        var reader = new Reader(frame);
        reader.Position = 1;
        if (!reader.TryByte(out byte type) || !reader.TryByte(out byte flags)
            || !reader.TryString(out var ns) || !reader.TryString(out var source) || !reader.TryString(out var requestId)
            || !reader.TryList(out var rooms) || !reader.TryList(out var except) || !reader.TryList(out var targetRooms)
            || !reader.TryVarint(out ulong count) || !reader.TryRange(out var data) || !reader.TryVarint(out ulong attachmentCount)
            || attachmentCount > MaxItems)
        {
            return false;
        }

        var ranges = attachmentCount == 0 ? [] : new Range[(int)attachmentCount];
        for (int i = 0; i < ranges.Length; i++)
        {
            if (!reader.TryRange(out ranges[i]))
            {
                return false;
            }
        }

        if (reader.Position != frame.Length)
        {
            return false;
        }

        // One copy of the binary parts (the only bytes that are not already decoded into strings).
        int binaryStart = data.Start.Value;
        var binary = frame[binaryStart..].ToArray();
        var owned = new ReadOnlyMemory<byte>(binary);
        ReadOnlyMemory<byte>[] attachments = ranges.Length == 0 ? [] : new ReadOnlyMemory<byte>[ranges.Length];
        for (int i = 0; i < ranges.Length; i++)
        {
            attachments[i] = owned[(ranges[i].Start.Value - binaryStart)..(ranges[i].End.Value - binaryStart)];
        }

        message = new ClusterMessage
        {
            Type = (ClusterMessageType)type,
            Flags = (ClusterMessageFlags)flags,
            Namespace = ns,
            Source = source,
            RequestId = requestId,
            Rooms = rooms,
            Except = except,
            TargetRooms = targetRooms,
            Count = UnZigZag(count),
            Data = owned[..(data.End.Value - binaryStart)],
            Attachments = attachments,
        };
        return true;
    }

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    private static long UnZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    private static int VarintLength(ulong value)
    {
        int length = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            length++;
        }

        return length;
    }

    private static int BytesLength(int length) => VarintLength((uint)length) + length;

    private static int StringLength(string value) => BytesLength(Encoding.UTF8.GetByteCount(value));

    private static int ListLength(IReadOnlyList<string> items)
    {
        int length = VarintLength((uint)items.Count);
        foreach (var item in items)
        {
            length += StringLength(item);
        }

        return length;
    }

    private ref struct Writer(Span<byte> destination)
    {
        private readonly Span<byte> _destination = destination;

        public int Position { get; private set; }

        public void Byte(byte value) => _destination[Position++] = value;

        public void Varint(ulong value)
        {
            while (value >= 0x80)
            {
                _destination[Position++] = (byte)(value | 0x80);
                value >>= 7;
            }

            _destination[Position++] = (byte)value;
        }

        public void Bytes(ReadOnlySpan<byte> value)
        {
            Varint((uint)value.Length);
            value.CopyTo(_destination[Position..]);
            Position += value.Length;
        }

        public void String(string value)
        {
            int length = Encoding.UTF8.GetByteCount(value);
            Varint((uint)length);
            Position += Encoding.UTF8.GetBytes(value, _destination[Position..]);
        }

        public void List(IReadOnlyList<string> items)
        {
            Varint((uint)items.Count);
            foreach (var item in items)
            {
                String(item);
            }
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> frame)
    {
        private readonly ReadOnlySpan<byte> _frame = frame;

        public int Position { get; set; }

        public bool TryByte(out byte value)
        {
            value = 0;
            if (Position >= _frame.Length)
            {
                return false;
            }

            value = _frame[Position++];
            return true;
        }

        public bool TryVarint(out ulong value)
        {
            value = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                if (!TryByte(out byte b))
                {
                    return false;
                }

                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return true;
                }
            }

            return false;
        }

        public bool TryRange(out Range range)
        {
            range = default;
            if (!TryVarint(out ulong length) || length > (ulong)(_frame.Length - Position))
            {
                return false;
            }

            range = new Range(Position, Position + (int)length);
            Position += (int)length;
            return true;
        }

        public bool TryString(out string value)
        {
            value = "";
            if (!TryRange(out var range))
            {
                return false;
            }

            try
            {
                value = range.End.Value == range.Start.Value ? "" : StrictUtf8.GetString(_frame[range]);
                return true;
            }
            catch (DecoderFallbackException)
            {
                return false;
            }
        }

        public bool TryList(out IReadOnlyList<string> items)
        {
            items = [];
            if (!TryVarint(out ulong count) || count > MaxItems || count > (ulong)(_frame.Length - Position))
            {
                return false;
            }

            if (count == 0)
            {
                return true;
            }

            var list = new string[(int)count];
            for (int i = 0; i < list.Length; i++)
            {
                if (!TryString(out list[i]))
                {
                    return false;
                }
            }

            items = list;
            return true;
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
