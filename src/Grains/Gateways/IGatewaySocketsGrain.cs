using System.Collections.Immutable;
using Orleans.Concurrency;

namespace OrleansRooms.Grains.Gateways;

/// <summary>
/// The sockets of one gateway and their rooms, for every namespace (key: the gateway's silo address), kept on another
/// silo (<see cref="AwayFromGatewayPlacementAttribute"/>) so that they outlive the gateway. The socket grains write it
/// beside the room grains. It answers "which sockets does the namespace have" without asking any gateway, and when the
/// gateway dies it is what lets the cluster take exactly that gateway's sockets out of their rooms and say so once
/// (<see cref="ReleaseAsync"/>): the one piece of the relation that cannot be rebuilt from the gateways still alive.
/// </summary>
public interface IGatewaySocketsGrain : IGrainWithStringKey
{
    /// <summary>Records socket <paramref name="socketId"/> of namespace <paramref name="ns"/> with <paramref name="rooms"/> (added to what is recorded).</summary>
    Task JoinAsync(string ns, string socketId, ImmutableArray<string> rooms);

    /// <summary>Removes <paramref name="rooms"/> from the socket's record.</summary>
    Task LeaveAsync(string ns, string socketId, ImmutableArray<string> rooms);

    /// <summary>Forgets the socket.</summary>
    Task DisconnectAsync(string ns, string socketId);

    /// <summary>The ids of the gateway's sockets in namespace <paramref name="ns"/>.</summary>
    [AlwaysInterleave]
    Task<ImmutableArray<string>> GetSocketsAsync(string ns);

    /// <summary>
    /// The gateway died: removes its sockets from every room grain and returns, the first time only, what changed so the
    /// caller raises the room events once for the cluster. Later calls return an empty release.
    /// </summary>
    Task<GatewayRelease> ReleaseAsync();
}

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
