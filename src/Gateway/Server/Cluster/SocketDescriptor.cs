using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace OrleansRooms.Cluster;

/// <summary>A socket as <c>FetchSocketsAsync</c> sends it between gateways: id, handshake, rooms and data, as JSON.</summary>
internal static class SocketDescriptor
{
    public static byte[] Write(IReadOnlyList<Socket> sockets, JsonSerializerOptions options)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var socket in sockets)
            {
                Write(writer, socket, options);
            }

            writer.WriteEndArray();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static RemoteSocket Read(Namespace nsp, JsonElement element)
    {
        var handshake = element.GetProperty("handshake");
        var rooms = new HashSet<string>(StringComparer.Ordinal);
        foreach (var room in element.GetProperty("rooms").EnumerateArray())
        {
            rooms.Add(room.GetString()!);
        }

        var data = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in element.GetProperty("data").EnumerateObject())
        {
            data[property.Name] = property.Value.Clone();
        }

        return new RemoteSocket(
            nsp,
            element.GetProperty("id").GetString()!,
            new Handshake(
                ReadHeaders(handshake.GetProperty("headers")),
                new QueryCollection(ReadValues(handshake.GetProperty("query"))),
                handshake.TryGetProperty("auth", out var auth) ? auth.Clone() : null,
                handshake.GetProperty("address").GetString()!,
                handshake.GetProperty("time").GetString()!,
                handshake.GetProperty("issued").GetInt64(),
                handshake.GetProperty("url").GetString()!,
                handshake.GetProperty("secure").GetBoolean(),
                handshake.GetProperty("xdomain").GetBoolean()),
            rooms,
            data);
    }

    private static void Write(Utf8JsonWriter writer, Socket socket, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("id", socket.Id);
        writer.WriteStartObject("handshake");
        var handshake = socket.Handshake;
        WriteValues(writer, "headers", handshake.Headers);
        WriteValues(writer, "query", handshake.Query);
        writer.WritePropertyName("auth");
        handshake.Auth.WriteTo(writer);

        writer.WriteString("address", handshake.Address);
        writer.WriteString("time", handshake.Time);
        writer.WriteNumber("issued", handshake.Issued);
        writer.WriteString("url", handshake.Url);
        writer.WriteBoolean("secure", handshake.Secure);
        writer.WriteBoolean("xdomain", handshake.XDomain);
        writer.WriteEndObject();
        writer.WriteStartArray("rooms");
        foreach (var room in socket.Rooms)
        {
            writer.WriteStringValue(room);
        }

        writer.WriteEndArray();
        writer.WriteStartObject("data");
        if (socket.HasData)
        {
            foreach (var (key, value) in socket.Data)
            {
                writer.WritePropertyName(key);
                JsonSerializer.Serialize(writer, value, options);
            }
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteValues(Utf8JsonWriter writer, string name, IEnumerable<KeyValuePair<string, StringValues>> values)
    {
        writer.WriteStartObject(name);
        foreach (var (key, value) in values)
        {
            writer.WriteStartArray(key);
            foreach (var item in value)
            {
                writer.WriteStringValue(item);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    private static HeaderDictionary ReadHeaders(JsonElement element)
    {
        var headers = new HeaderDictionary();
        foreach (var (key, value) in ReadValues(element))
        {
            headers[key] = value;
        }

        return headers;
    }

    private static Dictionary<string, StringValues> ReadValues(JsonElement element)
    {
        var values = new Dictionary<string, StringValues>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in element.EnumerateObject())
        {
            var items = new string?[property.Value.GetArrayLength()];
            var i = 0;
            foreach (var item in property.Value.EnumerateArray())
            {
                items[i++] = item.GetString();
            }

            values[property.Name] = new StringValues(items);
        }

        return values;
    }
}
