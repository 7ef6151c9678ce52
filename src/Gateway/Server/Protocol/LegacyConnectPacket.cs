using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;

namespace OrleansRooms.Protocol;

/// <summary>
/// The CONNECT of Socket.IO protocol v4 (<c>socket.io-client</c> 2.x), which has no payload: the client's query for the
/// namespace rides in the namespace (<c>0/admin?token=abc,</c>). As the reference server does, that query becomes the
/// socket's <c>auth</c> (<c>{"token":"abc"}</c>; a key given twice, an array of its values).
/// </summary>
internal static class LegacyConnectPacket
{
    public static Packet WithQueryAsAuth(Packet connect)
    {
        var mark = connect.Namespace.IndexOf('?', StringComparison.Ordinal);
        if (mark < 0)
        {
            return connect;
        }

        var query = QueryHelpers.ParseQuery(connect.Namespace[mark..]);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (key, values) in query)
            {
                if (values.Count == 1)
                {
                    writer.WriteString(key, values[0]);
                    continue;
                }

                writer.WriteStartArray(key);
                foreach (var value in values)
                {
                    writer.WriteStringValue(value);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        return new Packet
        {
            Type = connect.Type,
            Namespace = mark == 0 ? "/" : connect.Namespace[..mark],
            Data = JsonElement.Parse(buffer.ToArray()),
        };
    }
}
