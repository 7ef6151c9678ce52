using System.Buffers;
using System.Text.Json;
using OrleansRooms.Grains;
using OrleansRooms.Silo.Compatibility;

namespace OrleansRooms.Emitter;

/// <summary>
/// Encodes a <see cref="ClusterMessage"/> the way the official <c>@socket.io/redis-emitter</c> publishes it (the
/// inverse of <see cref="EmitterMessageTranslator"/>): broadcasts as MessagePack <c>["emitter", {type: 2, data, nsp},
/// {rooms, except, flags}]</c> with attachments back in place of their placeholders, requests as JSON.
/// </summary>
internal static class EmitterWireFormat
{
    private const string Uid = "emitter";

    public static (string Channel, byte[] Payload) Encode(EmitterChannels channels, ClusterMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        switch (message.Type)
        {
            case ClusterMessageType.Broadcast:
                WriteBroadcast(new MessagePackWriter(buffer), message);
                return (channels.BroadcastChannel(message.Namespace, message.Rooms), buffer.WrittenSpan.ToArray());
            case ClusterMessageType.SocketsJoin or ClusterMessageType.SocketsLeave or ClusterMessageType.DisconnectSockets or ClusterMessageType.ServerSideEmit:
                using (var writer = new Utf8JsonWriter(buffer, MessagePackJson.Options))
                {
                    WriteRequest(writer, message);
                }

                return (channels.RequestChannel(message.Namespace), buffer.WrittenSpan.ToArray());
            default:
                throw new NotSupportedException($"An emitter does not send {message.Type} messages.");
        }
    }

    private static void WriteBroadcast(MessagePackWriter writer, ClusterMessage message)
    {
        writer.WriteArrayHeader(3);
        writer.WriteString(Uid);

        writer.WriteMapHeader(3);
        writer.WriteString("type");
        writer.WriteInt64(2);
        writer.WriteString("data");
        using (var data = JsonDocument.Parse(message.Data))
        {
            WriteValue(writer, data.RootElement, message.Attachments);
        }

        writer.WriteString("nsp");
        writer.WriteString(message.Namespace);

        writer.WriteMapHeader(3);
        writer.WriteString("rooms");
        WriteStrings(writer, message.Rooms);
        writer.WriteString("flags");
        bool isVolatile = (message.Flags & ClusterMessageFlags.Volatile) != 0;
        writer.WriteMapHeader(isVolatile ? 1 : 0);
        if (isVolatile)
        {
            writer.WriteString("volatile");
            writer.WriteBoolean(true);
        }

        writer.WriteString("except");
        WriteStrings(writer, message.Except);
    }

    private static void WriteRequest(Utf8JsonWriter writer, ClusterMessage message)
    {
        writer.WriteStartObject();
        writer.WriteString("uid", Uid);
        writer.WriteNumber("type", message.Type switch
        {
            ClusterMessageType.SocketsJoin => 2,
            ClusterMessageType.SocketsLeave => 3,
            ClusterMessageType.DisconnectSockets => 4,
            _ => 6,
        });
        if (message.Type == ClusterMessageType.ServerSideEmit)
        {
            writer.WritePropertyName("data");
            writer.WriteRawValue(message.Data.Span);
        }
        else
        {
            writer.WriteStartObject("opts");
            writer.WritePropertyName("rooms");
            WriteStrings(writer, message.Rooms);
            writer.WritePropertyName("except");
            WriteStrings(writer, message.Except);
            writer.WriteEndObject();
            if (message.Type == ClusterMessageType.DisconnectSockets)
            {
                writer.WriteBoolean("close", (message.Flags & ClusterMessageFlags.Close) != 0);
            }
            else
            {
                writer.WritePropertyName("rooms");
                WriteStrings(writer, message.TargetRooms);
            }
        }

        writer.WriteEndObject();
    }

    /// <summary>JSON to MessagePack; a placeholder object whose number names an attachment becomes that binary.</summary>
    private static void WriteValue(MessagePackWriter writer, JsonElement element, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Array:
                writer.WriteArrayHeader(element.GetArrayLength());
                foreach (var item in element.EnumerateArray())
                {
                    WriteValue(writer, item, attachments);
                }

                break;
            case JsonValueKind.Object:
                if (IsPlaceholder(element, attachments.Count, out int num))
                {
                    writer.WriteBinary(attachments[num].Span);
                    break;
                }

                int count = 0;
                foreach (var _ in element.EnumerateObject())
                {
                    count++;
                }

                writer.WriteMapHeader(count);
                foreach (var property in element.EnumerateObject())
                {
                    writer.WriteString(property.Name);
                    WriteValue(writer, property.Value, attachments);
                }

                break;
            case JsonValueKind.String:
                writer.WriteString(element.GetString()!);
                break;
            case JsonValueKind.Number:
                if (element.TryGetInt64(out long signed))
                {
                    writer.WriteInt64(signed);
                }
                else if (element.TryGetUInt64(out ulong unsigned))
                {
                    writer.WriteUInt64(unsigned);
                }
                else
                {
                    writer.WriteDouble(element.GetDouble());
                }

                break;
            case JsonValueKind.True or JsonValueKind.False:
                writer.WriteBoolean(element.ValueKind == JsonValueKind.True);
                break;
            default:
                writer.WriteNil();
                break;
        }
    }

    private static bool IsPlaceholder(JsonElement element, int attachmentCount, out int num)
    {
        num = -1;
        return element.TryGetProperty("_placeholder", out var flag) && flag.ValueKind == JsonValueKind.True
            && element.TryGetProperty("num", out var number) && number.TryGetInt32(out num)
            && num >= 0 && num < attachmentCount;
    }

    private static void WriteStrings(MessagePackWriter writer, IReadOnlyList<string> values)
    {
        writer.WriteArrayHeader(values.Count);
        foreach (var value in values)
        {
            writer.WriteString(value);
        }
    }

    private static void WriteStrings(Utf8JsonWriter writer, IReadOnlyList<string> values)
    {
        writer.WriteStartArray();
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }
}
