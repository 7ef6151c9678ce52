using System.Text;

namespace OrleansRooms.Silo.Grains;

/// <summary>
/// The Redis key and channel names of docs/cluster.md. The <c>{...}</c> hash tags keep a room's two keys (and a
/// socket's key) in one slot, so one script can change both halves of a room atomically in a Redis Cluster.
/// </summary>
internal sealed class ClusterKeys
{
    public ClusterKeys(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (prefix.Contains('{', StringComparison.Ordinal) || prefix.Contains('}', StringComparison.Ordinal))
        {
            // A brace in the prefix would become the hash tag and put every key in one slot.
            throw new ArgumentException("The key prefix must not contain '{' or '}'.", nameof(prefix));
        }

        Prefix = prefix;
        Gateways = prefix + ":gateways";
        Epoch = prefix + ":epoch";
    }

    public string Prefix { get; }

    /// <summary>Sorted set gateway id → lease expiry (ms, Redis server time).</summary>
    public string Gateways { get; }

    /// <summary>A random value; missing or changed means Redis lost its data.</summary>
    public string Epoch { get; }

    /// <summary>Hash socket id → gateway id.</summary>
    public string RoomMembers(string ns, string room) => $"{Prefix}:r:{{{ns}#{room}}}:m";

    /// <summary>Hash gateway id → member count: where the room's broadcasts go.</summary>
    public string RoomGateways(string ns, string room) => $"{Prefix}:r:{{{ns}#{room}}}:g";

    /// <summary>Set of the socket's rooms.</summary>
    public string Socket(string ns, string socketId) => $"{Prefix}:s:{{{ns}#{socketId}}}";

    /// <summary>Set of <c>N#S</c>: the gateway's sockets, read by whoever reaps it.</summary>
    public string GatewaySockets(string gatewayId) => $"{Prefix}:g:{{{gatewayId}}}:sockets";

    /// <summary>The lock taken by the gateway reaping <paramref name="gatewayId"/>.</summary>
    public string Reap(string gatewayId) => $"{Prefix}:reap:{{{gatewayId}}}";

    /// <summary>The channel of messages addressed to one gateway.</summary>
    public string GatewayChannel(string gatewayId) => $"{Prefix}:gw:{{{gatewayId}}}";

    /// <summary>A SCAN MATCH pattern for the member keys of every room of a namespace (glob characters of the name escaped).</summary>
    public string RoomScanPattern(string ns) => $"{Prefix}:r:{{{EscapeGlob(ns)}#*}}:m";

    /// <summary>The room named by a member key of namespace <paramref name="ns"/>, or null for any other key.</summary>
    public string? RoomOfMembersKey(string ns, string key)
    {
        string head = $"{Prefix}:r:{{{ns}#";
        return key.Length >= head.Length + 3 && key.StartsWith(head, StringComparison.Ordinal) && key.EndsWith("}:m", StringComparison.Ordinal)
            ? key[head.Length..^3]
            : null;
    }

    /// <summary>The entry of a socket in a gateway index.</summary>
    public static string IndexEntry(string ns, string socketId) => ns + "#" + socketId;

    /// <summary>Splits an index entry at its last <c>#</c> (socket ids never contain one; namespaces may).</summary>
    public static bool TryParseIndexEntry(string entry, out string ns, out string socketId)
    {
        int hash = entry.LastIndexOf('#');
        ns = hash > 0 ? entry[..hash] : "";
        socketId = hash > 0 ? entry[(hash + 1)..] : "";
        return hash > 0 && socketId.Length > 0;
    }

    private static string EscapeGlob(string value)
    {
        if (value.AsSpan().IndexOfAny("*?[]\\") < 0)
        {
            return value;
        }

        var builder = new StringBuilder(value.Length + 4);
        foreach (char c in value)
        {
            if (c is '*' or '?' or '[' or ']' or '\\')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        return builder.ToString();
    }
}
