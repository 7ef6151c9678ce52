using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansRooms.Protocol;

/// <summary>
/// Converters that turn binary values into placeholders (<c>{"_placeholder":true,"num":N}</c>) and back. Which
/// attachment list they write to or read from is per thread and per call (<see cref="BinaryAttachments"/>), so one
/// converter instance serves every options instance and every call. Outside an encode or decode they behave like
/// System.Text.Json's own converters: base64 strings.
/// </summary>
internal static class BinaryConverters
{
    public static JsonConverter<byte[]> ByteArray { get; } = new ByteArrayConverter();

    public static JsonConverter<ReadOnlyMemory<byte>> ReadOnlyMemory { get; } = new ReadOnlyMemoryConverter();

    public static JsonConverter<Memory<byte>> Memory { get; } = new MemoryConverter();

    public static JsonConverter<ArraySegment<byte>> ArraySegment { get; } = new ArraySegmentConverter();

    private static readonly JsonEncodedText PlaceholderName = JsonEncodedText.Encode("_placeholder");
    private static readonly JsonEncodedText NumName = JsonEncodedText.Encode("num");

    /// <summary>Writes <paramref name="data"/> as a placeholder when attachments are being collected, else as base64.</summary>
    public static void Write(Utf8JsonWriter writer, ReadOnlyMemory<byte> data)
    {
        var collector = BinaryAttachments.Outgoing;
        if (collector is null)
        {
            writer.WriteBase64StringValue(data.Span);
            return;
        }

        var num = collector.Count;
        collector.Add(data);
        writer.WriteStartObject();
        writer.WriteBoolean(PlaceholderName, true);
        writer.WriteNumber(NumName, num);
        writer.WriteEndObject();
    }

    /// <summary>Reads a placeholder (resolved against the incoming attachments) or a base64 string.</summary>
    private static byte[] Read(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return reader.GetBytesFromBase64();
            case JsonTokenType.StartObject:
                return ReadPlaceholder(ref reader);
            default:
                throw new JsonException($"Expected binary data (a placeholder or a base64 string), found {reader.TokenType}.");
        }
    }

    private static byte[] ReadPlaceholder(ref Utf8JsonReader reader)
    {
        var isPlaceholder = false;
        var num = -1;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("_placeholder"u8))
            {
                reader.Read();
                isPlaceholder = reader.TokenType == JsonTokenType.True;
            }
            else if (reader.ValueTextEquals("num"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out num))
                {
                    num = -1;
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (!isPlaceholder)
        {
            throw new JsonException("Expected binary data (a placeholder or a base64 string), found an object.");
        }

        var attachments = BinaryAttachments.Incoming;
        var count = attachments?.Count ?? 0;
        if (num < 0 || num >= count)
        {
            throw new JsonException($"Binary placeholder num must be an integer from 0 to {count - 1}; the packet has {count} attachment(s).");
        }

        return attachments![num];
    }

    private sealed class ByteArrayConverter : JsonConverter<byte[]>
    {
        public override byte[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            BinaryConverters.Read(ref reader);

        public override void Write(Utf8JsonWriter writer, byte[] value, JsonSerializerOptions options) =>
            BinaryConverters.Write(writer, value);
    }

    private sealed class ReadOnlyMemoryConverter : JsonConverter<ReadOnlyMemory<byte>>
    {
        public override ReadOnlyMemory<byte> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? default : BinaryConverters.Read(ref reader);

        public override void Write(Utf8JsonWriter writer, ReadOnlyMemory<byte> value, JsonSerializerOptions options) =>
            BinaryConverters.Write(writer, value);
    }

    private sealed class MemoryConverter : JsonConverter<Memory<byte>>
    {
        public override Memory<byte> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? default : BinaryConverters.Read(ref reader);

        public override void Write(Utf8JsonWriter writer, Memory<byte> value, JsonSerializerOptions options) =>
            BinaryConverters.Write(writer, value);
    }

    private sealed class ArraySegmentConverter : JsonConverter<ArraySegment<byte>>
    {
        public override ArraySegment<byte> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? default : new ArraySegment<byte>(BinaryConverters.Read(ref reader));

        public override void Write(Utf8JsonWriter writer, ArraySegment<byte> value, JsonSerializerOptions options) =>
            BinaryConverters.Write(writer, value);
    }
}

/// <summary>
/// The attachment lists the converters use on this thread: serialization and deserialization are synchronous, so a
/// thread-static slot, set for the duration of one call and restored after, scopes them to that call.
/// </summary>
internal static class BinaryAttachments
{
    [ThreadStatic]
    private static List<ReadOnlyMemory<byte>>? t_outgoing;

    [ThreadStatic]
    private static IReadOnlyList<byte[]>? t_incoming;

    /// <summary>Where the encoder collects attachments; null outside an encode (binary then becomes base64).</summary>
    public static List<ReadOnlyMemory<byte>>? Outgoing
    {
        get => t_outgoing;
        set => t_outgoing = value;
    }

    /// <summary>The attachments placeholders resolve to during a deserialization.</summary>
    public static IReadOnlyList<byte[]>? Incoming
    {
        get => t_incoming;
        set => t_incoming = value;
    }
}
