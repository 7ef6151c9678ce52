using System.Buffers.Text;
using System.Text;

namespace OrleansRooms.Silo.Redis;

/// <summary>The kind of a RESP2 reply.</summary>
internal enum RedisReplyType : byte
{
    SimpleString,
    Error,
    Integer,
    BulkString,
    Array,
}

/// <summary>
/// One RESP2 reply. A small struct: the value is one reference (string for simple strings and errors,
/// byte[] for bulk strings, RedisReply[] for arrays) plus the integer, so scalar replies allocate nothing beyond their payload.
/// </summary>
internal readonly struct RedisReply
{
    private readonly object? _value;
    private readonly long _integer;

    private RedisReply(RedisReplyType type, object? value, long integer)
    {
        Type = type;
        _value = value;
        _integer = integer;
    }

    public RedisReplyType Type { get; }

    /// <summary>A null bulk string (<c>$-1</c>) or a null array (<c>*-1</c>).</summary>
    public bool IsNull => _value is null && Type is RedisReplyType.BulkString or RedisReplyType.Array;

    public bool IsError => Type == RedisReplyType.Error;

    /// <summary>The error text (<c>ERR ...</c>, <c>MOVED ...</c>), or null when this is no error.</summary>
    public string? ErrorMessage => Type == RedisReplyType.Error ? (string?)_value : null;

    public static RedisReply SimpleString(string value) => new(RedisReplyType.SimpleString, value, 0);

    public static RedisReply Error(string message) => new(RedisReplyType.Error, message, 0);

    public static RedisReply Integer(long value) => new(RedisReplyType.Integer, null, value);

    public static RedisReply Bulk(byte[]? value) => new(RedisReplyType.BulkString, value, 0);

    public static RedisReply Array(RedisReply[]? items) => new(RedisReplyType.Array, items, 0);

    /// <summary>Text of a simple string, error or bulk string (UTF-8), an integer's digits, or null for a null reply.</summary>
    public string? AsString() => Type switch
    {
        RedisReplyType.SimpleString or RedisReplyType.Error => (string?)_value,
        RedisReplyType.BulkString => _value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : null,
        RedisReplyType.Integer => _integer.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new InvalidCastException("A Redis array reply is not a string."),
    };

    /// <summary>An integer reply, or a simple or bulk string holding one.</summary>
    public long AsInt64()
    {
        switch (Type)
        {
            case RedisReplyType.Integer:
                return _integer;
            case RedisReplyType.BulkString when _value is byte[] bytes:
                if (Utf8Parser.TryParse(bytes, out long parsed, out int consumed) && consumed == bytes.Length)
                {
                    return parsed;
                }

                break;
            case RedisReplyType.SimpleString when long.TryParse((string)_value!, System.Globalization.CultureInfo.InvariantCulture, out long value):
                return value;
        }

        throw new InvalidCastException($"The Redis reply {this} is not an integer.");
    }

    /// <summary>The bytes of a bulk string (null for a null bulk), or the UTF-8 of a simple string.</summary>
    public byte[]? AsBytes() => Type switch
    {
        RedisReplyType.BulkString => (byte[]?)_value,
        RedisReplyType.SimpleString => Encoding.UTF8.GetBytes((string)_value!),
        _ => throw new InvalidCastException($"The Redis reply {this} is not a string."),
    };

    /// <summary>The items of an array reply, or null for a null array.</summary>
    public RedisReply[]? AsArray() => Type == RedisReplyType.Array
        ? (RedisReply[]?)_value
        : throw new InvalidCastException($"The Redis reply {this} is not an array.");

    /// <summary>Whether this is a bulk or simple string equal to the ASCII text, ignoring case (push kinds, NOSCRIPT checks).</summary>
    internal bool EqualsAscii(ReadOnlySpan<byte> lowercaseAscii)
    {
        ReadOnlySpan<byte> bytes = Type == RedisReplyType.BulkString && _value is byte[] b ? b : default;
        if (Type == RedisReplyType.SimpleString)
        {
            return Ascii.EqualsIgnoreCase(((string)_value!).AsSpan(), lowercaseAscii);
        }

        return bytes.Length == lowercaseAscii.Length && Ascii.EqualsIgnoreCase(bytes, lowercaseAscii);
    }

    public override string ToString() => Type switch
    {
        RedisReplyType.SimpleString => $"+{_value}",
        RedisReplyType.Error => $"-{_value}",
        RedisReplyType.Integer => $":{_integer}",
        RedisReplyType.BulkString => _value is byte[] b ? $"${b.Length}:{Encoding.UTF8.GetString(b)}" : "$(nil)",
        _ => _value is RedisReply[] items ? $"*{items.Length}[{string.Join(", ", items)}]" : "*(nil)",
    };
}
