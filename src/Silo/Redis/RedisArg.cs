using System.Buffers.Text;
using System.Text;

namespace OrleansRooms.Silo.Redis;

/// <summary>One argument of a command: UTF-8 text, bytes, or an integer (sent as its decimal digits).</summary>
internal readonly struct RedisArg
{
    private readonly object? _value;
    private readonly ReadOnlyMemory<byte> _bytes;
    private readonly long _integer;

    private RedisArg(object? value, ReadOnlyMemory<byte> bytes, long integer)
    {
        _value = value;
        _bytes = bytes;
        _integer = integer;
    }

    public static implicit operator RedisArg(string value) => new(value ?? throw new ArgumentNullException(nameof(value)), default, 0);

    public static implicit operator RedisArg(ReadOnlyMemory<byte> value) => new(null, value, 0);

    public static implicit operator RedisArg(byte[] value) => new(null, value ?? throw new ArgumentNullException(nameof(value)), 0);

    public static implicit operator RedisArg(long value) => new(IntegerMarker, default, value);

    public static implicit operator RedisArg(int value) => new(IntegerMarker, default, value);

    private static readonly object IntegerMarker = new();

    /// <summary>The bytes this argument is sent as. Bytes given by the caller are used as they are, not copied.</summary>
    public ReadOnlyMemory<byte> ToMemory()
    {
        if (_value is string text)
        {
            return Encoding.UTF8.GetBytes(text);
        }

        if (ReferenceEquals(_value, IntegerMarker))
        {
            Span<byte> digits = stackalloc byte[20];
            Utf8Formatter.TryFormat(_integer, digits, out int written);
            return digits[..written].ToArray();
        }

        return _bytes;
    }
}
