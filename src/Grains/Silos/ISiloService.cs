using System.Collections.Immutable;
using Orleans.Services;
using OrleansRooms.Grains.Rooms;

namespace OrleansRooms.Grains.Silos;

/// <summary>
/// The endpoint of each OrleansRooms silo (an Orleans grain service: addressed by silo, with no placement and no
/// directory entry, so a dead silo is simply unreachable). What the room grains and the other silos ask of a silo:
/// the members its sessions give a room being rebuilt, the pushes to its route cache, and its part of the
/// namespace-wide listings.
/// </summary>
internal interface ISiloService : IGrainService
{
    /// <summary>What this silo holds of room <paramref name="room"/>: its sessions in the room, and whether its route cache follows it.</summary>
    Task<RoomShard> DescribeRoomAsync(string ns, string room);

    /// <summary>Room <paramref name="room"/>'s gateways changed: this silo's route cache takes <paramref name="route"/> if it is newer.</summary>
    Task RouteChangedAsync(string ns, string room, RoomRoute route);

    /// <summary>
    /// Takes a sequenced broadcast (connection state recovery): this silo's log keeps it for its disconnected sessions,
    /// and its gateway, if it is one, delivers it to its sockets, in each sender's order.
    /// </summary>
    Task RecordAsync(Messages.ClusterMessage message);

    /// <summary>
    /// Applies a cluster-wide join, leave or disconnection (<paramref name="message"/>) to the disconnected sessions kept
    /// here for recovery that it selects; completes once each has taken it.
    /// </summary>
    Task ApplyToSuspendedAsync(Messages.ClusterMessage message);

    /// <summary>How many connected sessions of <paramref name="ns"/> live here, and how many rooms they are in.</summary>
    Task<NamespaceCount> CountAsync(string ns);

    /// <summary>The ids of this silo's sessions of <paramref name="ns"/>, part <paramref name="part"/> of <paramref name="parts"/>.</summary>
    Task<ImmutableArray<string>> GetSocketIdsAsync(string ns, int part, int parts);

    /// <summary>The rooms of <paramref name="ns"/> with a member whose session lives here, part <paramref name="part"/> of <paramref name="parts"/>.</summary>
    Task<ImmutableArray<string>> GetRoomNamesAsync(string ns, int part, int parts);
}

/// <summary>What one silo holds of a room being rebuilt.</summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.room-shard")]
internal sealed record RoomShard(
    [property: Id(0)] ImmutableArray<MemberChange> Members,
    [property: Id(1)] long? FollowedVersion);

/// <summary>A silo's count of a namespace's sessions and rooms.</summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.namespace-count")]
internal readonly record struct NamespaceCount(
    [property: Id(0)] int Sockets,
    [property: Id(1)] int Rooms);
