using System.Collections.Immutable;
using Orleans.Concurrency;

namespace OrleansRooms.Grains.Gateways;

/// <summary>
/// The sockets of one gateway and their rooms, for every namespace (key: the gateway's silo address), kept on another
/// silo (<see cref="AwayFromGatewayPlacementAttribute"/>) so that they outlive the gateway. The socket grains write it
/// beside the room grains. The copies of the live gateways are the index of every socket and every room of a namespace,
/// without asking any gateway (a copy per gateway, so no single grain sees every join of the cluster). When its gateway
/// dies, it is what lets the cluster take exactly that gateway's sockets out of their rooms and say so once
/// (<see cref="ReleaseAsync"/>): the one piece of the relation that cannot be rebuilt from the gateways still alive.
/// </summary>
public interface IGatewaySocketsGrain : IGrainWithStringKey
{
    /// <summary>Applies <paramref name="changes"/> in order (the gateway's socket grains batch them, <see cref="GatewayCopyWriter"/>).</summary>
    Task ApplyAsync(ImmutableArray<SocketChange> changes);

    /// <summary>The ids of the gateway's sockets in namespace <paramref name="ns"/>.</summary>
    [AlwaysInterleave]
    Task<ImmutableArray<string>> GetSocketsAsync(string ns);

    /// <summary>
    /// The rooms of namespace <paramref name="ns"/> that have a member on the gateway: its sockets' own rooms and the
    /// rooms they joined. Their union over the live gateways is every room of the namespace.
    /// </summary>
    [AlwaysInterleave]
    Task<ImmutableArray<string>> GetRoomNamesAsync(string ns);

    /// <summary>
    /// The gateway died: removes its sockets from every room grain and returns, the first time only, what changed so the
    /// caller raises the room events once for the cluster. Later calls return an empty release.
    /// </summary>
    Task<GatewayRelease> ReleaseAsync();
}

/// <summary>What a socket did, as the gateway's copy records it.</summary>
public enum SocketChangeKind : byte
{
    /// <summary>The socket joined <see cref="SocketChange.Rooms"/> (none: it connected).</summary>
    Join,

    /// <summary>The socket left <see cref="SocketChange.Rooms"/>.</summary>
    Leave,

    /// <summary>The socket disconnected.</summary>
    Disconnect,
}

/// <summary>One change of one socket's rooms, for the gateway's copy.</summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.socket-change")]
public readonly record struct SocketChange(
    [property: Id(0)] string Namespace,
    [property: Id(1)] string SocketId,
    [property: Id(2)] SocketChangeKind Kind,
    [property: Id(3)] ImmutableArray<string> Rooms);

/// <summary>What the release of a dead gateway changed, in the order the room events are raised.</summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.gateway-release")]
public sealed class GatewayRelease
{
    /// <summary>An empty release (already released, or the gateway had no socket).</summary>
    public static GatewayRelease Empty { get; } = new() { Changes = [] };

    /// <summary>Each room change: a socket leaving a room, or a room deleted once its last member left.</summary>
    [Id(0)]
    public required ImmutableArray<RoomChange> Changes { get; init; }
}

/// <summary>One change of a release: <see cref="SocketId"/> left <see cref="Room"/>, or (no socket) the room was deleted.</summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.room-change")]
public readonly record struct RoomChange(
    [property: Id(0)] string Namespace,
    [property: Id(1)] string Room,
    [property: Id(2)] string? SocketId);
