using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace OrleansRooms.Silo.Compatibility;

/// <summary>
/// Writes MessagePack values to an <see cref="IBufferWriter{T}"/>, each in its shortest form (the choices
/// <c>notepack.io</c> makes: non-negative integers in the uint family, negative ones in the int family).
/// </summary>
internal readonly struct MessagePackWriter(IBufferWriter<byte> output)
{
    public void WriteNil() => WriteByte(0xc0);

    public void WriteBoolean(bool value) => WriteByte(value ? (byte)0xc3 : (byte)0xc2);

    public void WriteInt64(long value)
    {
        if (value >= 0)
        {
            WriteUInt64((ulong)value);
        }
        else if (value >= -32)
        {
            WriteByte((byte)(sbyte)value);
        }
        else if (value >= sbyte.MinValue)
        {
            var span = output.GetSpan(2);
            span[0] = 0xd0;
            span[1] = (byte)(sbyte)value;
            output.Advance(2);
        }
        else if (value >= short.MinValue)
        {
            var span = output.GetSpan(3);
            span[0] = 0xd1;
            BinaryPrimitives.WriteInt16BigEndian(span[1..], (short)value);
            output.Advance(3);
        }
        else if (value >= int.MinValue)
        {
            var span = output.GetSpan(5);
            span[0] = 0xd2;
            BinaryPrimitives.WriteInt32BigEndian(span[1..], (int)value);
            output.Advance(5);
        }
        else
        {
            var span = output.GetSpan(9);
            span[0] = 0xd3;
            BinaryPrimitives.WriteInt64BigEndian(span[1..], value);
            output.Advance(9);
        }
    }

    public void WriteUInt64(ulong value)
    {
        if (value <= 0x7f)
        {
            WriteByte((byte)value);
        }
        else if (value <= byte.MaxValue)
        {
            var span = output.GetSpan(2);
            span[0] = 0xcc;
            span[1] = (byte)value;
            output.Advance(2);
        }
        else if (value <= ushort.MaxValue)
        {
            var span = output.GetSpan(3);
            span[0] = 0xcd;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)value);
            output.Advance(3);
        }
        else if (value <= uint.MaxValue)
        {
            var span = output.GetSpan(5);
            span[0] = 0xce;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)value);
            output.Advance(5);
        }
        else
        {
            var span = output.GetSpan(9);
            span[0] = 0xcf;
            BinaryPrimitives.WriteUInt64BigEndian(span[1..], value);
            output.Advance(9);
        }
    }

    public void WriteDouble(double value)
    {
        var span = output.GetSpan(9);
        span[0] = 0xcb;
        BinaryPrimitives.WriteDoubleBigEndian(span[1..], value);
        output.Advance(9);
    }

    public void WriteSingle(float value)
    {
        var span = output.GetSpan(5);
        span[0] = 0xca;
        BinaryPrimitives.WriteSingleBigEndian(span[1..], value);
        output.Advance(5);
    }

    public void WriteString(string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        WriteLengthHeader(length, fixBase: 0xa0, fixLimit: 32, type8: 0xd9);
        var span = output.GetSpan(length);
        Encoding.UTF8.GetBytes(value, span);
        output.Advance(length);
    }

    /// <summary>Writes a string from bytes that already are UTF-8.</summary>
    public void WriteStringBytes(ReadOnlySpan<byte> utf8)
    {
        WriteLengthHeader(utf8.Length, fixBase: 0xa0, fixLimit: 32, type8: 0xd9);
        output.Write(utf8);
    }

    public void WriteBinary(ReadOnlySpan<byte> value)
    {
        WriteLengthHeader(value.Length, fixBase: 0, fixLimit: 0, type8: 0xc4);
        output.Write(value);
    }

    public void WriteArrayHeader(int count) => WriteContainerHeader(count, fixBase: 0x90, type16: 0xdc);

    public void WriteMapHeader(int count) => WriteContainerHeader(count, fixBase: 0x80, type16: 0xde);

    /// <summary>Writes an extension value: fixext for 1, 2, 4, 8 and 16 bytes, else ext 8/16/32.</summary>
    public void WriteExtension(sbyte type, ReadOnlySpan<byte> data)
    {
        int length = data.Length;
        Span<byte> header = stackalloc byte[6];
        int headerLength;
        switch (length)
        {
            case 1 or 2 or 4 or 8 or 16:
                header[0] = (byte)(0xd4 + System.Numerics.BitOperations.Log2((uint)length));
                headerLength = 1;
                break;
            case <= byte.MaxValue:
                header[0] = 0xc7;
                header[1] = (byte)length;
                headerLength = 2;
                break;
            case <= ushort.MaxValue:
                header[0] = 0xc8;
                BinaryPrimitives.WriteUInt16BigEndian(header[1..], (ushort)length);
                headerLength = 3;
                break;
            default:
                header[0] = 0xc9;
                BinaryPrimitives.WriteUInt32BigEndian(header[1..], (uint)length);
                headerLength = 5;
                break;
        }

        header[headerLength++] = (byte)type;
        output.Write(header[..headerLength]);
        output.Write(data);
    }

    private void WriteByte(byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    /// <summary>str and bin headers: fix form below <paramref name="fixLimit"/>, then 8, 16 and 32-bit lengths.</summary>
    private void WriteLengthHeader(int length, byte fixBase, int fixLimit, byte type8)
    {
        var span = output.GetSpan(5);
        if (length < fixLimit)
        {
            span[0] = (byte)(fixBase | length);
            output.Advance(1);
        }
        else if (length <= byte.MaxValue)
        {
            span[0] = type8;
            span[1] = (byte)length;
            output.Advance(2);
        }
        else if (length <= ushort.MaxValue)
        {
            span[0] = (byte)(type8 + 1);
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)length);
            output.Advance(3);
        }
        else
        {
            span[0] = (byte)(type8 + 2);
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)length);
            output.Advance(5);
        }
    }

    private void WriteContainerHeader(int count, byte fixBase, byte type16)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var span = output.GetSpan(5);
        if (count < 16)
        {
            span[0] = (byte)(fixBase | count);
            output.Advance(1);
        }
        else if (count <= ushort.MaxValue)
        {
            span[0] = type16;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)count);
            output.Advance(3);
        }
        else
        {
            span[0] = (byte)(type16 + 1);
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)count);
            output.Advance(5);
        }
    }
}
