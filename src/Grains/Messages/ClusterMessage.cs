using System.Collections.Immutable;

namespace OrleansRooms.Grains.Messages;

/// <summary>What a <see cref="ClusterMessage"/> asks of the gateway that receives it.</summary>
internal enum ClusterMessageType : byte
{
    /// <summary>Deliver an event to the local sockets selected by <see cref="ClusterMessage.Rooms"/> and <see cref="ClusterMessage.Except"/>.</summary>
    Broadcast = 1,

    /// <summary>Make the selected local sockets join <see cref="ClusterMessage.TargetRooms"/>.</summary>
    SocketsJoin = 2,

    /// <summary>Make the selected local sockets leave <see cref="ClusterMessage.TargetRooms"/>.</summary>
    SocketsLeave = 3,

    /// <summary>Disconnect the selected local sockets (closing their connections with <see cref="ClusterMessageFlags.Close"/>).</summary>
    DisconnectSockets = 4,

    /// <summary>Raise a server-side event (<see cref="ClusterMessage.Data"/>: its name and arguments).</summary>
    ServerSideEmit = 5,
}

/// <summary>Options of a <see cref="ClusterMessage"/>.</summary>
[Flags]
internal enum ClusterMessageFlags : byte
{
    /// <summary>None.</summary>
    None = 0,

    /// <summary>A broadcast that may be dropped for sockets that cannot take it right now.</summary>
    Volatile = 1,

    /// <summary>Disconnecting also closes the underlying connections.</summary>
    Close = 2,

    /// <summary>A broadcast emitted with <c>Compress(false)</c>: never sent compressed.</summary>
    Uncompressed = 4,
}

/// <summary>
/// What one gateway (or an emitter) asks another gateway to do with the sockets of one namespace. Event payloads travel
/// encoded once: <see cref="Data"/> holds the JSON array of the Socket.IO packet (event name first, binary parts as
/// placeholders) and <see cref="Attachments"/> the binary parts, so a receiving gateway only prefixes the packet header.
/// Immutable, so a message sent to several gateways is serialized, never copied.
/// </summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.message")]
internal sealed class ClusterMessage
{
    /// <summary>What the message asks.</summary>
    [Id(0)]
    public required ClusterMessageType Type { get; init; }

    /// <summary>The namespace.</summary>
    [Id(1)]
    public required string Namespace { get; init; }

    /// <summary>Rooms selecting the sockets (union); empty selects every socket of the namespace.</summary>
    [Id(2)]
    public ImmutableArray<string> Rooms { get; init; } = [];

    /// <summary>Rooms whose sockets are excluded.</summary>
    [Id(3)]
    public ImmutableArray<string> Except { get; init; } = [];

    /// <summary>The rooms to join or leave (<see cref="ClusterMessageType.SocketsJoin"/>, <see cref="ClusterMessageType.SocketsLeave"/>).</summary>
    [Id(4)]
    public ImmutableArray<string> TargetRooms { get; init; } = [];

    /// <summary>Flags.</summary>
    [Id(5)]
    public ClusterMessageFlags Flags { get; init; }

    /// <summary>UTF-8 JSON: the packet's data array, or empty.</summary>
    [Id(6)]
    public ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>Binary attachments referenced by placeholders in <see cref="Data"/>.</summary>
    [Id(7)]
    public ImmutableArray<ReadOnlyMemory<byte>> Attachments { get; init; } = [];

    /// <summary>
    /// The silo that sent a sequenced broadcast (<see cref="Sequence"/>); null otherwise. With connection state recovery
    /// on, every silo takes each sender's sequenced broadcasts in sequence order (<see cref="Recovery.NamespaceLog"/>).
    /// </summary>
    [Id(8)]
    public SiloAddress? Origin { get; init; }

    /// <summary>The broadcast's place in its sender's sequence of the namespace, from 1; 0 for a message that has none.</summary>
    [Id(9)]
    public long Sequence { get; init; }

    /// <summary>True on the first sequenced broadcast a sender sends to the receiving silo: nothing before it is that silo's.</summary>
    [Id(10)]
    public bool StartsStream { get; init; }

    /// <summary>
    /// The W3C <c>traceparent</c> of the span that sent the message, when one was traced: the span of its delivery on
    /// the receiving gateway is that span's child, whichever way the message went (a call, a stream, a silo's log).
    /// </summary>
    [Id(11)]
    public string? TraceParent { get; init; }

    /// <summary>The sockets the message selects.</summary>
    public RoomSelection Selection => new(Rooms, Except);

    /// <summary>This message as broadcast number <paramref name="sequence"/> of <paramref name="origin"/>.</summary>
    public ClusterMessage WithSequence(SiloAddress origin, long sequence) => Sequenced(origin, sequence, startsStream: false);

    /// <summary>This message marked as the first its sender sends to a silo (<see cref="StartsStream"/>).</summary>
    public ClusterMessage AsStreamStart() => Sequenced(Origin, Sequence, startsStream: true);

    private ClusterMessage Sequenced(SiloAddress? origin, long sequence, bool startsStream) => new()
    {
        Type = Type,
        Namespace = Namespace,
        Rooms = Rooms,
        Except = Except,
        TargetRooms = TargetRooms,
        Flags = Flags,
        Data = Data,
        Attachments = Attachments,
        Origin = origin,
        Sequence = sequence,
        StartsStream = startsStream,
        TraceParent = TraceParent,
    };
}

/// <summary>
/// Which sockets a broadcast reaches: those in at least one of <see cref="Rooms"/> (every socket of the namespace when
/// it is empty), minus those in any of <see cref="Except"/>.
/// </summary>
internal readonly record struct RoomSelection(IReadOnlyCollection<string> Rooms, IReadOnlyCollection<string> Except)
{
    /// <summary>True when no room is named, so the whole namespace is targeted.</summary>
    public bool IsAll => Rooms.Count == 0;
}
