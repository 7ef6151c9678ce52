using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace OrleansRooms.Emitter;

/// <summary>Builds the JSON data array of an event (<c>[event, ...args]</c>) with binary arguments as placeholders.</summary>
internal static class EmitterPayload
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static (byte[] Data, IReadOnlyList<ReadOnlyMemory<byte>> Attachments) Event(string eventName, object?[] args, JsonSerializerOptions options, bool binary)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        List<ReadOnlyMemory<byte>> attachments = [];
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = options.Encoder ?? WriterOptions.Encoder }))
        {
            writer.WriteStartArray();
            writer.WriteStringValue(eventName);
            foreach (var arg in args)
            {
                if (binary && TryGetBinary(arg, out var attachment))
                {
                    writer.WriteStartObject();
                    writer.WriteBoolean("_placeholder"u8, true);
                    writer.WriteNumber("num"u8, attachments.Count);
                    writer.WriteEndObject();
                    attachments.Add(attachment.ToArray());
                }
                else if (arg is null)
                {
                    writer.WriteNullValue();
                }
                else
                {
                    JsonSerializer.Serialize(writer, arg, arg.GetType(), options);
                }
            }

            writer.WriteEndArray();
        }

        return (buffer.WrittenSpan.ToArray(), attachments);
    }

    private static bool TryGetBinary(object? arg, out ReadOnlyMemory<byte> bytes)
    {
        switch (arg)
        {
            case byte[] array:
                bytes = array;
                return true;
            case ReadOnlyMemory<byte> memory:
                bytes = memory;
                return true;
            case Memory<byte> memory:
                bytes = memory;
                return true;
            case ArraySegment<byte> segment:
                bytes = segment;
                return true;
            default:
                bytes = default;
                return false;
        }
    }
}
