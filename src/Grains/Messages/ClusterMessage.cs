using System.Collections.Immutable;

namespace OrleansRooms.Grains.Messages;

/// <summary>What a <see cref="ClusterMessage"/> asks of the gateway that receives it.</summary>
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
/// What one gateway (or an emitter) sends to another gateway about one namespace, through the gateway's grain or its
/// stream. Event payloads travel encoded once: <see cref="Data"/> holds the JSON array of the Socket.IO packet (event
/// name first, binary parts as placeholders) and <see cref="Attachments"/> the binary parts, so a receiving gateway
/// only prefixes the packet header. Immutable, so a message sent to several gateways is serialized, never copied.
/// </summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.message")]
public sealed class ClusterMessage
{
    /// <summary>What the message asks.</summary>
    [Id(0)]
    public required ClusterMessageType Type { get; init; }

    /// <summary>The namespace.</summary>
    [Id(1)]
    public required string Namespace { get; init; }

    /// <summary>The gateway that sent it, to which answers go; null for an emitter that expects no answer.</summary>
    [Id(2)]
    public SiloAddress? Source { get; init; }

    /// <summary>Correlates requests and their answers; empty when no answer is expected.</summary>
    [Id(3)]
    public string RequestId { get; init; } = "";

    /// <summary>Rooms selecting the sockets (union); empty selects every socket of the namespace.</summary>
    [Id(4)]
    public ImmutableArray<string> Rooms { get; init; } = [];

    /// <summary>Rooms whose sockets are excluded.</summary>
    [Id(5)]
    public ImmutableArray<string> Except { get; init; } = [];

    /// <summary>The rooms to join or leave (<see cref="ClusterMessageType.SocketsJoin"/>, <see cref="ClusterMessageType.SocketsLeave"/>).</summary>
    [Id(6)]
    public ImmutableArray<string> TargetRooms { get; init; } = [];

    /// <summary>Flags.</summary>
    [Id(7)]
    public ClusterMessageFlags Flags { get; init; }

    /// <summary>A count (<see cref="ClusterMessageType.BroadcastClientCount"/>, <see cref="ClusterMessageType.BroadcastAck"/>).</summary>
    [Id(8)]
    public long Count { get; init; }

    /// <summary>UTF-8 JSON: the packet's data array, a response, or empty.</summary>
    [Id(9)]
    public ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>Binary attachments referenced by placeholders in <see cref="Data"/>.</summary>
    [Id(10)]
    public ImmutableArray<ReadOnlyMemory<byte>> Attachments { get; init; } = [];

    /// <summary>The sockets the message selects.</summary>
    public RoomSelection Selection => new(Rooms, Except);

    /// <summary>Whether the sender waits for an answer (it named itself and a request id).</summary>
    public bool ExpectsAnswer => Source is not null && RequestId.Length > 0;
}
