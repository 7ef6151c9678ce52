using System.Buffers;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansRooms.Silo.Emitter;

/// <summary>
/// Encodes an event once, as the gateways do (<c>PacketEncoder</c>): the JSON data array <c>[event, ...args]</c> with
/// every binary value (<c>byte[]</c>, <c>ReadOnlyMemory&lt;byte&gt;</c>, <c>Memory&lt;byte&gt;</c>,
/// <c>ArraySegment&lt;byte&gt;</c>), top-level or nested, written as a placeholder <c>{"_placeholder":true,"num":N}</c>
/// and its bytes kept as an attachment. The receiving gateways only prefix the packet header. The emitter has its own
/// copy of this small encoding because the Silo does not reference the Gateway.
/// </summary>
internal static class EventPayload
{
    [ThreadStatic]
    private static List<ReadOnlyMemory<byte>>? t_attachments;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    private static readonly ConditionalWeakTable<JsonSerializerOptions, JsonSerializerOptions> Wrapped = new();

    public static (ReadOnlyMemory<byte> Data, ImmutableArray<ReadOnlyMemory<byte>> Attachments) Encode(string eventName, ReadOnlySpan<object?> args, JsonSerializerOptions options)
    {
        var serializer = Wrapped.GetValue(options, Wrap);
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
        var attachments = t_attachments ??= [];
        buffer.ResetWrittenCount();
        attachments.Clear();
        try
        {
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = options.Encoder ?? JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                writer.WriteStartArray();
                writer.WriteStringValue(eventName);
                foreach (var arg in args)
                {
                    if (arg is null)
                    {
                        writer.WriteNullValue();
                    }
                    else
                    {
                        JsonSerializer.Serialize(writer, arg, arg.GetType(), serializer);
                    }
                }

                writer.WriteEndArray();
            }

            return (buffer.WrittenSpan.ToArray(), [.. attachments]);
        }
        finally
        {
            attachments.Clear();
            // A large payload does not stay pinned to the thread.
            if (buffer.Capacity > 64 * 1024)
            {
                t_buffer = null;
            }
        }
    }

    // The caller's options plus the binary converters, first so that they win over the caller's own.
    private static JsonSerializerOptions Wrap(JsonSerializerOptions options)
    {
        var wrapped = new JsonSerializerOptions(options);
        wrapped.Converters.Insert(0, new BinaryConverter<byte[]>(static b => b, static b => b));
        wrapped.Converters.Insert(1, new BinaryConverter<ReadOnlyMemory<byte>>(static b => b, static b => b));
        wrapped.Converters.Insert(2, new BinaryConverter<Memory<byte>>(static b => b, static b => b.ToArray()));
        wrapped.Converters.Insert(3, new BinaryConverter<ArraySegment<byte>>(static b => b, static b => b.ToArray()));
        wrapped.MakeReadOnly(populateMissingResolver: true);
        return wrapped;
    }

    /// <summary>Writes a binary value as a placeholder and collects a copy of its bytes (the message is immutable once sent); reads base64.</summary>
    private sealed class BinaryConverter<T>(Func<T, ReadOnlyMemory<byte>> bytes, Func<byte[], T> create) : JsonConverter<T>
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => create(reader.GetBytesFromBase64());

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
        {
            var attachments = t_attachments!;
            writer.WriteStartObject();
            writer.WriteBoolean("_placeholder"u8, true);
            writer.WriteNumber("num"u8, attachments.Count);
            writer.WriteEndObject();
            attachments.Add(bytes(value).ToArray());
        }
    }
}
