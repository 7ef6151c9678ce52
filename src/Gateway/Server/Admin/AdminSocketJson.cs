using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Primitives;

namespace OrleansRooms.Admin;

/// <summary>
/// A socket as the Admin UI reads it (<c>all_sockets</c>, <c>socket_connected</c>): id, client id, transport, namespace,
/// data, handshake and rooms. The client id and transport travel in the socket's data under <c>_admin</c>, as in the
/// package, so a socket fetched from another gateway carries them too; the UI is shown the data without it.
/// </summary>
internal static class AdminSocketJson
{
    /// <summary>The key of <see cref="Socket.Data"/> that holds what the UI needs of the socket's connection.</summary>
    public const string AdminDataKey = "_admin";

    /// <summary>How many characters of the Engine.IO session id the UI is given as client id (the package's choice).</summary>
    private const int ClientIdLength = 12;

    /// <summary>Records the socket's client id and current transport in its data.</summary>
    public static void Tag(Socket socket)
    {
        var sessionId = socket.Client.Connection.Id;
        socket.Data[AdminDataKey] = new JsonObject
        {
            ["clientId"] = sessionId.Length > ClientIdLength ? sessionId[..ClientIdLength] : sessionId,
            ["transport"] = socket.Transport,
        };
    }

    public static JsonObject Serialize(RemoteSocket socket, string nsp, JsonSerializerOptions options)
    {
        var data = new JsonObject();
        JsonNode? admin = null;
        foreach (var (key, value) in socket.Data)
        {
            var node = JsonSerializer.SerializeToNode(value, options);
            if (key == AdminDataKey)
            {
                admin = node;
            }
            else
            {
                data[key] = node;
            }
        }

        var handshake = socket.Handshake;
        var rooms = new JsonArray();
        foreach (var room in socket.Rooms)
        {
            rooms.Add(room);
        }

        return new JsonObject
        {
            ["id"] = socket.Id,
            ["clientId"] = ReadString(admin, "clientId"),
            ["transport"] = ReadString(admin, "transport"),
            ["nsp"] = nsp,
            ["data"] = data,
            ["handshake"] = new JsonObject
            {
                ["address"] = FirstHeader(handshake, "cf-connecting-ip") ?? FirstHeader(handshake, "x-forwarded-for") ?? handshake.Address,
                ["headers"] = ToObject(handshake.Headers, lowerCaseKeys: true),
                ["query"] = ToObject(handshake.Query, lowerCaseKeys: false),
                ["issued"] = handshake.Issued,
                ["secure"] = handshake.Secure,
                ["time"] = handshake.Time,
                ["url"] = handshake.Url,
                ["xdomain"] = handshake.XDomain,
            },
            ["rooms"] = rooms,
        };
    }

    private static string? ReadString(JsonNode? node, string name) =>
        node is JsonObject obj && obj[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static string? FirstHeader(Handshake handshake, string name) =>
        handshake.Headers.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;

    private static JsonObject ToObject(IEnumerable<KeyValuePair<string, StringValues>> values, bool lowerCaseKeys)
    {
        var obj = new JsonObject();
        foreach (var (key, value) in values)
        {
            // Node's http module gives header names in lower case, and joins a repeated header with ", ".
            obj[lowerCaseKeys ? key.ToLowerInvariant() : key] = value.Count == 1 ? value[0] : value.ToString();
        }

        return obj;
    }
}
