using System.Text.Json;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Protocol;

namespace OrleansRooms;

/// <summary>
/// The arguments of an event or of an acknowledgement received from a client, read by position. Binary attachments
/// come back as <c>byte[]</c> (or <see cref="ReadOnlyMemory{T}"/> of bytes) wherever they were sent.
/// </summary>
public sealed class SocketArguments
{
    private readonly JsonElement _array;
    private readonly int _offset;
    private readonly IReadOnlyList<byte[]> _attachments;
    private readonly JsonSerializerOptions _options;

    internal SocketArguments(JsonElement array, int offset, IReadOnlyList<byte[]> attachments, JsonSerializerOptions options)
    {
        _array = array;
        _offset = offset;
        _attachments = attachments;
        _options = options;
        Count = array.ValueKind == JsonValueKind.Array ? Math.Max(0, array.GetArrayLength() - offset) : 0;
    }

    /// <summary>Arguments that arrived from another gateway: <see cref="ClusterMessage.Data"/> holds their JSON array.</summary>
    internal static SocketArguments FromCluster(ClusterMessage message, JsonSerializerOptions options) =>
        FromCluster(message.Data, message.Attachments, options);

    /// <summary>An acknowledgement that arrived from another gateway.</summary>
    internal static SocketArguments FromCluster(AckData ack, JsonSerializerOptions options) => FromCluster(ack.Data, ack.Attachments, options);

    private static SocketArguments FromCluster(ReadOnlyMemory<byte> data, System.Collections.Immutable.ImmutableArray<ReadOnlyMemory<byte>> parts, JsonSerializerOptions options)
    {
        var reader = new Utf8JsonReader(data.Span);
        var array = JsonElement.ParseValue(ref reader);
        var attachments = new byte[parts.IsDefault ? 0 : parts.Length][];
        for (var i = 0; i < attachments.Length; i++)
        {
            attachments[i] = parts[i].ToArray();
        }

        return new SocketArguments(array, 0, attachments, options);
    }

    /// <summary>The same arguments without the first <paramref name="count"/>.</summary>
    internal SocketArguments Skip(int count) => new(_array, _offset + count, _attachments, _options);

    /// <summary>The whole JSON array as UTF-8 (for arguments read from offset 0, such as an acknowledgement's).</summary>
    internal byte[] ToJsonArray() => JsonSerializer.SerializeToUtf8Bytes(_array);

    /// <summary>The binary attachments the placeholders refer to.</summary>
    internal IReadOnlyList<byte[]> Attachments => _attachments;

    /// <summary>The number of arguments.</summary>
    public int Count { get; }

    /// <summary>Argument <paramref name="index"/> as JSON (binary attachments appear as their placeholders).</summary>
    public JsonElement this[int index] => _array[CheckIndex(index)];

    /// <summary>Argument <paramref name="index"/> deserialized as <typeparamref name="T"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">There are fewer arguments.</exception>
    /// <exception cref="JsonException">The argument is not a <typeparamref name="T"/>.</exception>
    public T? Get<T>(int index) => PayloadSerializer.Deserialize<T>(_array[CheckIndex(index)], _attachments, _options);

    /// <summary>Argument <paramref name="index"/> as <typeparamref name="T"/>, or <paramref name="fallback"/> when it is missing or of another shape.</summary>
    public T? GetOrDefault<T>(int index, T? fallback = default)
    {
        if ((uint)index >= (uint)Count)
        {
            return fallback;
        }

        try
        {
            return Get<T>(index);
        }
        catch (JsonException)
        {
            return fallback;
        }
        catch (InvalidOperationException)
        {
            return fallback;
        }
    }

    /// <inheritdoc />
    public override string ToString()
    {
        if (Count == 0)
        {
            return "[]";
        }

        var items = new string[Count];
        for (var i = 0; i < Count; i++)
        {
            items[i] = this[i].GetRawText();
        }

        return "[" + string.Join(",", items) + "]";
    }

    private int CheckIndex(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return index + _offset;
    }
}
