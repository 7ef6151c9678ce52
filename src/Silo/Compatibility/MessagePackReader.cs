using System.Buffers.Binary;

namespace OrleansRooms.Silo.Compatibility;

/// <summary>The kind of a MessagePack value, as its first byte tells.</summary>
internal enum MessagePackType : byte
{
    Nil,
    Boolean,

    /// <summary>Any integer family (fixint, uint 8..64, int 8..64).</summary>
    Integer,

    /// <summary>float 32 or float 64.</summary>
    Float,
    String,
    Binary,
    Array,
    Map,

    /// <summary>fixext 1..16 or ext 8/16/32 (timestamps included).</summary>
    Extension,
}

/// <summary>Why a read did not succeed.</summary>
internal enum MessagePackError : byte
{
    None,

    /// <summary>The input ends inside the value: more bytes would be needed.</summary>
    Truncated,

    /// <summary>The first byte is 0xc1 (never used by the format).</summary>
    InvalidByte,

    /// <summary>The value is of another type than asked.</summary>
    WrongType,

    /// <summary>An integer does not fit the asked width.</summary>
    Overflow,

    /// <summary>Containers are nested deeper than the reader allows.</summary>
    TooDeep,
}

/// <summary>
/// Reads MessagePack values from a span, one header at a time. Every <c>TryRead…</c> either consumes a whole value
/// (or a container's header) and returns true, or consumes nothing, returns false and sets <see cref="Error"/>: bad or
/// truncated input never throws. Strings, binaries and extension data are returned as slices of the input.
/// </summary>
internal ref struct MessagePackReader
{
    /// <summary>How deep <see cref="TrySkip"/> follows nested containers.</summary>
    public const int MaxDepth = 64;

    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;

    public MessagePackReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
    }

    /// <summary>How many bytes have been consumed.</summary>
    public readonly int Consumed => _position;

    /// <summary>Whether every byte has been consumed.</summary>
    public readonly bool End => _position >= _buffer.Length;

    /// <summary>Why the last failed read failed (<see cref="MessagePackError.None"/> after a success).</summary>
    public MessagePackError Error { get; private set; }

    private readonly ReadOnlySpan<byte> Remaining => _buffer[_position..];

    /// <summary>The type of the next value, without consuming it.</summary>
    public bool TryPeekType(out MessagePackType type)
    {
        type = default;
        if (End)
        {
            return Fail(MessagePackError.Truncated);
        }

        byte b = _buffer[_position];
        switch (b)
        {
            case <= 0x7f or >= 0xe0 or (>= 0xcc and <= 0xd3):
                type = MessagePackType.Integer;
                break;
            case <= 0x8f or 0xde or 0xdf:
                type = MessagePackType.Map;
                break;
            case <= 0x9f or 0xdc or 0xdd:
                type = MessagePackType.Array;
                break;
            case <= 0xbf or (>= 0xd9 and <= 0xdb):
                type = MessagePackType.String;
                break;
            case 0xc0:
                type = MessagePackType.Nil;
                break;
            case 0xc2 or 0xc3:
                type = MessagePackType.Boolean;
                break;
            case >= 0xc4 and <= 0xc6:
                type = MessagePackType.Binary;
                break;
            case (>= 0xc7 and <= 0xc9) or (>= 0xd4 and <= 0xd8):
                type = MessagePackType.Extension;
                break;
            case 0xca or 0xcb:
                type = MessagePackType.Float;
                break;
            default:
                return Fail(MessagePackError.InvalidByte);
        }

        Error = MessagePackError.None;
        return true;
    }

    public bool TryReadNil()
    {
        if (!Expect(MessagePackType.Nil))
        {
            return false;
        }

        _position++;
        return true;
    }

    public bool TryReadBoolean(out bool value)
    {
        value = false;
        if (!Expect(MessagePackType.Boolean))
        {
            return false;
        }

        value = _buffer[_position++] == 0xc3;
        return true;
    }

    /// <summary>Reads an integer of any width that fits a <see cref="long"/>.</summary>
    public bool TryReadInt64(out long value)
    {
        value = 0;
        if (!TryReadInteger(out long signed, out ulong unsigned, out bool isUnsigned, out int length))
        {
            return false;
        }

        if (isUnsigned && unsigned > long.MaxValue)
        {
            return Fail(MessagePackError.Overflow);
        }

        value = isUnsigned ? (long)unsigned : signed;
        _position += length;
        return true;
    }

    /// <summary>Reads a non-negative integer of any width.</summary>
    public bool TryReadUInt64(out ulong value)
    {
        value = 0;
        if (!TryReadInteger(out long signed, out ulong unsigned, out bool isUnsigned, out int length))
        {
            return false;
        }

        if (!isUnsigned && signed < 0)
        {
            return Fail(MessagePackError.Overflow);
        }

        value = isUnsigned ? unsigned : (ulong)signed;
        _position += length;
        return true;
    }

    /// <summary>Reads an integer of any width: <paramref name="isUnsigned"/> tells which of the two values holds it.</summary>
    public bool TryReadInteger(out long signed, out ulong unsigned, out bool isUnsigned)
    {
        if (!TryReadInteger(out signed, out unsigned, out isUnsigned, out int length))
        {
            return false;
        }

        _position += length;
        return true;
    }

    /// <summary>Reads a float 32 or float 64; <paramref name="isSingle"/> tells which.</summary>
    public bool TryReadDouble(out double value, out bool isSingle)
    {
        value = 0;
        isSingle = false;
        if (!Expect(MessagePackType.Float))
        {
            return false;
        }

        var span = Remaining;
        isSingle = span[0] == 0xca;
        int length = isSingle ? 5 : 9;
        if (span.Length < length)
        {
            return Fail(MessagePackError.Truncated);
        }

        value = isSingle ? BinaryPrimitives.ReadSingleBigEndian(span[1..]) : BinaryPrimitives.ReadDoubleBigEndian(span[1..]);
        _position += length;
        return true;
    }

    /// <summary>Reads a string's UTF-8 bytes (not validated).</summary>
    public bool TryReadStringBytes(out ReadOnlySpan<byte> utf8)
    {
        utf8 = default;
        if (!Expect(MessagePackType.String))
        {
            return false;
        }

        var span = Remaining;
        byte b = span[0];
        return b <= 0xbf ? TrySlice(1, b & 0x1f, out utf8) : TryReadLengthAndSlice(b - 0xd9, out utf8);
    }

    /// <summary>Reads a string; false with <see cref="MessagePackError.WrongType"/> when its bytes are not valid UTF-8.</summary>
    public bool TryReadString(out string value)
    {
        value = "";
        int start = _position;
        if (!TryReadStringBytes(out var utf8))
        {
            return false;
        }

        if (!System.Text.Unicode.Utf8.IsValid(utf8))
        {
            _position = start;
            return Fail(MessagePackError.WrongType);
        }

        value = System.Text.Encoding.UTF8.GetString(utf8);
        return true;
    }

    public bool TryReadBinary(out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        if (!Expect(MessagePackType.Binary))
        {
            return false;
        }

        return TryReadLengthAndSlice(Remaining[0] - 0xc4, out bytes);
    }

    /// <summary>Reads an array header; the <paramref name="count"/> values follow.</summary>
    public bool TryReadArrayHeader(out int count) => TryReadContainerHeader(MessagePackType.Array, 0x90, 0xdc, out count);

    /// <summary>Reads a map header; <paramref name="count"/> key/value pairs follow.</summary>
    public bool TryReadMapHeader(out int count) => TryReadContainerHeader(MessagePackType.Map, 0x80, 0xde, out count);

    /// <summary>Reads an extension value: its type code and its data.</summary>
    public bool TryReadExtension(out sbyte type, out ReadOnlySpan<byte> data)
    {
        type = 0;
        data = default;
        if (!Expect(MessagePackType.Extension))
        {
            return false;
        }

        var span = Remaining;
        byte b = span[0];
        int headerLength;
        long length;
        switch (b)
        {
            case >= 0xd4 and <= 0xd8:
                headerLength = 2;
                length = 1 << (b - 0xd4);
                break;
            case 0xc7:
                headerLength = 3;
                length = span.Length >= 2 ? span[1] : -1;
                break;
            case 0xc8:
                headerLength = 4;
                length = span.Length >= 3 ? BinaryPrimitives.ReadUInt16BigEndian(span[1..]) : -1;
                break;
            default:
                headerLength = 6;
                length = span.Length >= 5 ? BinaryPrimitives.ReadUInt32BigEndian(span[1..]) : -1;
                break;
        }

        if (length < 0 || span.Length < headerLength || span.Length - headerLength < length)
        {
            return Fail(MessagePackError.Truncated);
        }

        type = (sbyte)span[headerLength - 1];
        data = span.Slice(headerLength, (int)length);
        _position += headerLength + (int)length;
        return true;
    }

    /// <summary>
    /// Decodes a timestamp extension (type -1: 32, 64 or 96 bits) to seconds and nanoseconds since the Unix epoch;
    /// false when the data has another length or nanoseconds over 999 999 999.
    /// </summary>
    public static bool TryDecodeTimestamp(ReadOnlySpan<byte> data, out long seconds, out uint nanoseconds)
    {
        seconds = 0;
        nanoseconds = 0;
        switch (data.Length)
        {
            case 4:
                seconds = BinaryPrimitives.ReadUInt32BigEndian(data);
                return true;
            case 8:
                ulong value = BinaryPrimitives.ReadUInt64BigEndian(data);
                nanoseconds = (uint)(value >> 34);
                seconds = (long)(value & 0x3_ffff_ffffUL);
                return nanoseconds < 1_000_000_000;
            case 12:
                nanoseconds = BinaryPrimitives.ReadUInt32BigEndian(data);
                seconds = BinaryPrimitives.ReadInt64BigEndian(data[4..]);
                return nanoseconds < 1_000_000_000;
            default:
                return false;
        }
    }

    /// <summary>Skips one whole value (containers with everything inside, up to <see cref="MaxDepth"/> deep).</summary>
    public bool TrySkip()
    {
        int start = _position;
        if (SkipNested(0))
        {
            return true;
        }

        var error = Error;
        _position = start;
        return Fail(error);
    }

    private bool SkipNested(int depth)
    {
        if (!TryPeekType(out var type))
        {
            return false;
        }

        switch (type)
        {
            case MessagePackType.Array or MessagePackType.Map:
                if (depth >= MaxDepth)
                {
                    return Fail(MessagePackError.TooDeep);
                }

                bool isMap = type == MessagePackType.Map;
                if (!(isMap ? TryReadMapHeader(out int count) : TryReadArrayHeader(out count)))
                {
                    return false;
                }

                long items = isMap ? 2L * count : count;
                for (long i = 0; i < items; i++)
                {
                    if (!SkipNested(depth + 1))
                    {
                        return false;
                    }
                }

                return true;
            case MessagePackType.Nil:
                return TryReadNil();
            case MessagePackType.Boolean:
                return TryReadBoolean(out _);
            case MessagePackType.Integer:
                return TryReadInteger(out _, out _, out _);
            case MessagePackType.Float:
                return TryReadDouble(out _, out _);
            case MessagePackType.String:
                return TryReadStringBytes(out _);
            case MessagePackType.Binary:
                return TryReadBinary(out _);
            default:
                return TryReadExtension(out _, out _);
        }
    }

    private bool TryReadInteger(out long signed, out ulong unsigned, out bool isUnsigned, out int length)
    {
        signed = 0;
        unsigned = 0;
        isUnsigned = false;
        length = 0;
        if (!Expect(MessagePackType.Integer))
        {
            return false;
        }

        var span = Remaining;
        byte b = span[0];
        if (b <= 0x7f || b >= 0xe0)
        {
            signed = (sbyte)b;
            length = 1;
            return true;
        }

        // 0xcc..0xcf: uint 8/16/32/64; 0xd0..0xd3: int 8/16/32/64.
        int size = 1 << ((b - 0xcc) & 3);
        if (span.Length < 1 + size)
        {
            return Fail(MessagePackError.Truncated);
        }

        var body = span.Slice(1, size);
        length = 1 + size;
        if (b <= 0xcf)
        {
            ulong value = size switch
            {
                1 => body[0],
                2 => BinaryPrimitives.ReadUInt16BigEndian(body),
                4 => BinaryPrimitives.ReadUInt32BigEndian(body),
                _ => BinaryPrimitives.ReadUInt64BigEndian(body),
            };
            if (value > long.MaxValue)
            {
                isUnsigned = true;
                unsigned = value;
            }
            else
            {
                signed = (long)value;
            }
        }
        else
        {
            signed = size switch
            {
                1 => (sbyte)body[0],
                2 => BinaryPrimitives.ReadInt16BigEndian(body),
                4 => BinaryPrimitives.ReadInt32BigEndian(body),
                _ => BinaryPrimitives.ReadInt64BigEndian(body),
            };
        }

        return true;
    }

    private bool TryReadContainerHeader(MessagePackType type, byte fixBase, byte type16, out int count)
    {
        count = 0;
        if (!Expect(type))
        {
            return false;
        }

        var span = Remaining;
        byte b = span[0];
        int headerLength;
        long value;
        if (b < type16)
        {
            headerLength = 1;
            value = b - fixBase;
        }
        else if (b == type16)
        {
            headerLength = 3;
            value = span.Length >= 3 ? BinaryPrimitives.ReadUInt16BigEndian(span[1..]) : -1;
        }
        else
        {
            headerLength = 5;
            value = span.Length >= 5 ? BinaryPrimitives.ReadUInt32BigEndian(span[1..]) : -1;
        }

        // Every item takes at least one byte: a count the rest of the input cannot hold is truncated input, and
        // callers can size lists by it without trusting a forged length.
        long minimumItems = type == MessagePackType.Map ? 2 * value : value;
        if (value < 0 || span.Length - headerLength < minimumItems)
        {
            return Fail(MessagePackError.Truncated);
        }

        count = (int)value;
        _position += headerLength;
        return true;
    }

    /// <summary>Reads the 1, 2 or 4-byte big-endian length (<paramref name="width"/> 0, 1 or 2) after the type byte, then the bytes.</summary>
    private bool TryReadLengthAndSlice(int width, out ReadOnlySpan<byte> slice)
    {
        slice = default;
        var span = Remaining;
        int size = 1 << width;
        if (span.Length < 1 + size)
        {
            return Fail(MessagePackError.Truncated);
        }

        long length = size switch
        {
            1 => span[1],
            2 => BinaryPrimitives.ReadUInt16BigEndian(span[1..]),
            _ => BinaryPrimitives.ReadUInt32BigEndian(span[1..]),
        };
        return TrySlice(1 + size, length, out slice);
    }

    private bool TrySlice(int headerLength, long length, out ReadOnlySpan<byte> slice)
    {
        slice = default;
        var span = Remaining;
        if (span.Length - headerLength < length)
        {
            return Fail(MessagePackError.Truncated);
        }

        slice = span.Slice(headerLength, (int)length);
        _position += headerLength + (int)length;
        return true;
    }

    private bool Expect(MessagePackType expected)
    {
        if (!TryPeekType(out var type))
        {
            return false;
        }

        return type == expected || Fail(MessagePackError.WrongType);
    }

    private bool Fail(MessagePackError error)
    {
        Error = error;
        return false;
    }
}
