using System.Text.Json;
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
