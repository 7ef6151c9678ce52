namespace OrleansRooms.Grains;

/// <summary>What a <see cref="ClusterMessage"/> asks of the gateways that receive it.</summary>
public enum ClusterMessageType : byte
{
    /// <summary>Deliver an event to the local sockets selected by <see cref="ClusterMessage.Rooms"/> and <see cref="ClusterMessage.Except"/>.</summary>
    Broadcast = 1,

    /// <summary>Make the selected local sockets join <see cref="ClusterMessage.TargetRooms"/>.</summary>
    SocketsJoin = 2,

    /// <summary>Make the selected local sockets leave <see cref="ClusterMessage.TargetRooms"/>.</summary>
    SocketsLeave = 3,

    /// <summary>Disconnect the selected local sockets (closing their connections with <see cref="ClusterMessageFlags.Close"/>).</summary>
    DisconnectSockets = 4,

    /// <summary>Answer with the selected local sockets (a <see cref="FetchSocketsResponse"/> to <see cref="ClusterMessage.Source"/>).</summary>
    FetchSockets = 5,

    /// <summary>The answer to <see cref="FetchSockets"/>: <see cref="ClusterMessage.Data"/> is a JSON array of sockets.</summary>
    FetchSocketsResponse = 6,

    /// <summary>Raise a server-side event; with <see cref="ClusterMessage.RequestId"/>, answer with <see cref="ServerSideEmitResponse"/>.</summary>
    ServerSideEmit = 7,

    /// <summary>A server's acknowledgement of a <see cref="ServerSideEmit"/>: <see cref="ClusterMessage.Data"/> is its arguments.</summary>
    ServerSideEmitResponse = 8,

    /// <summary>How many local sockets a gateway delivered an acknowledged broadcast to (<see cref="ClusterMessage.Count"/>).</summary>
    BroadcastClientCount = 9,

    /// <summary>
    /// One socket's acknowledgement of a broadcast: <see cref="ClusterMessage.Data"/> is its arguments; a
    /// <see cref="ClusterMessage.Count"/> of 1 means the socket disconnected without answering.
    /// </summary>
    BroadcastAck = 10,

    /// <summary>A gateway finished a request that expects no data back (sockets join, leave, disconnect).</summary>
    Done = 11,

    /// <summary>
    /// A socket of a dead gateway was taken out of <see cref="ClusterMessage.Rooms"/> by this gateway's reaper (never
    /// sent over the cluster): <see cref="ClusterMessage.Data"/> is the socket id in UTF-8, and
    /// <see cref="ClusterMessage.TargetRooms"/> the rooms that became empty cluster-wide.
    /// </summary>
    Reaped = 12,
}

/// <summary>Options of a <see cref="ClusterMessage"/>.</summary>
[Flags]
public enum ClusterMessageFlags : byte
{
    /// <summary>None.</summary>
    None = 0,

    /// <summary>A broadcast that may be dropped for sockets that cannot take it right now.</summary>
    Volatile = 1,

    /// <summary>Disconnecting also closes the underlying connections.</summary>
    Close = 2,
}

/// <summary>
/// A message between gateways (or from an emitter to gateways) about one namespace. Event payloads travel encoded
/// once: <see cref="Data"/> holds the JSON array of the Socket.IO packet (event name first, binary parts as
/// placeholders) and <see cref="Attachments"/> the binary parts, so a receiving gateway only prefixes the packet header.
/// </summary>
public sealed class ClusterMessage
{
    /// <summary>What the message asks.</summary>
    public required ClusterMessageType Type { get; init; }

    /// <summary>The namespace.</summary>
    public required string Namespace { get; init; }

    /// <summary>The gateway that sent it (empty for an emitter that expects no answer).</summary>
    public string Source { get; init; } = "";

    /// <summary>Correlates requests and their answers; empty when no answer is expected.</summary>
    public string RequestId { get; init; } = "";

    /// <summary>Rooms selecting the sockets (union); empty selects every socket of the namespace.</summary>
    public IReadOnlyList<string> Rooms { get; init; } = [];

    /// <summary>Rooms whose sockets are excluded.</summary>
    public IReadOnlyList<string> Except { get; init; } = [];

    /// <summary>The rooms to join or leave (<see cref="ClusterMessageType.SocketsJoin"/>, <see cref="ClusterMessageType.SocketsLeave"/>).</summary>
    public IReadOnlyList<string> TargetRooms { get; init; } = [];

    /// <summary>Flags.</summary>
    public ClusterMessageFlags Flags { get; init; }

    /// <summary>A count (<see cref="ClusterMessageType.BroadcastClientCount"/>).</summary>
    public long Count { get; init; }

    /// <summary>UTF-8 JSON: the packet's data array, a response, or empty.</summary>
    public ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>Binary attachments referenced by placeholders in <see cref="Data"/>.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Attachments { get; init; } = [];

    /// <summary>The sockets the message selects.</summary>
    public RoomSelection Selection => new(Rooms, Except);
}
