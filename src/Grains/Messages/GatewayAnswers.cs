using System.Collections.Immutable;

namespace OrleansRooms.Grains.Messages;

/// <summary>An acknowledgement's arguments as they travel between gateways: a JSON array, and its binary attachments.</summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.ack")]
internal readonly record struct AckData(
    [property: Id(0)] ReadOnlyMemory<byte> Data,
    [property: Id(1)] ImmutableArray<ReadOnlyMemory<byte>> Attachments);

/// <summary>
/// What a gateway's sockets answered to a broadcast with acknowledgements: how many it delivered to, their answers, and
/// whether every one of them answered or disconnected (false: its wait ended at the broadcast's timeout).
/// </summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.broadcast-acks")]
internal sealed record BroadcastAcks(
    [property: Id(0)] int Sockets,
    [property: Id(1)] ImmutableArray<AckData> Acks,
    [property: Id(2)] bool Complete);

/// <summary>A server's answer to a server-side emit with acknowledgement; none when its handlers did not acknowledge.</summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.server-ack")]
internal sealed record ServerAck(
    [property: Id(0)] AckData? Ack);

/// <summary>
/// One room event caused by gateway <see cref="Lost"/> leaving the cluster: socket <see cref="SocketId"/> left
/// <see cref="Room"/>, or (no socket) the room was deleted.
/// </summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.room-event")]
internal readonly record struct RoomEvent(
    [property: Id(0)] string Namespace,
    [property: Id(1)] string Room,
    [property: Id(2)] string? SocketId,
    [property: Id(3)] SiloAddress Lost);
