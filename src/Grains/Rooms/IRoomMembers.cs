using System.Collections.Immutable;
using Orleans.Concurrency;
using OrleansRooms.Grains.Messages;

namespace OrleansRooms.Grains.Rooms;

/// <summary>
/// The room's half of the membership relation, for one room of one namespace: its members, the gateway hosting each,
/// and the silos whose route caches follow which gateways host members (<see cref="SubscribeAsync"/>). A room is
/// served by its <see cref="IRoomGrain"/>, except the room named by a socket's id, served by that socket's grain
/// (<see cref="RoomGrains.Of"/>). Written only by the sessions (<see cref="Sessions.ISocketGrain"/>), which own the
/// other half; lost with its silo, it is rebuilt from the sessions that name it when it activates again.
/// </summary>
internal interface IRoomMembers : IAddressable
{
    /// <summary>
    /// Applies <paramref name="changes"/> (from the sessions of one silo, batched by <see cref="RoomWriter"/>): each adds
    /// a socket, hosted by its gateway, or removes it. Idempotent. Completes once every route cache that follows the room
    /// knows each gateway that gained its first member, so a broadcast sent after a join completed reaches the socket.
    /// A socket whose gateway has left the cluster is not added. Interleaves with the grain's other calls (a socket
    /// grain is also a session, which may itself be waiting on a room that is another socket's grain).
    /// </summary>
    [AlwaysInterleave]
    Task ApplyAsync(ImmutableArray<MemberChange> changes);

    /// <summary>The gateways hosting members, and from now on every change of them, pushed to <paramref name="silo"/>'s route cache.</summary>
    [AlwaysInterleave]
    Task<RoomRoute> SubscribeAsync(SiloAddress silo);

    /// <summary><paramref name="silo"/>'s route cache forgot the room: no more pushes to it.</summary>
    [AlwaysInterleave, OneWay]
    Task UnsubscribeAsync(SiloAddress silo);

    /// <summary>How many members the room has.</summary>
    [AlwaysInterleave]
    Task<int> CountAsync();

    /// <summary>
    /// Part <paramref name="part"/> of <paramref name="parts"/> of the member ids: each member is in exactly one part,
    /// so a large room is read in pages of a bounded size (<see cref="RoomPages"/>) and never in one message.
    /// </summary>
    [AlwaysInterleave]
    Task<ImmutableArray<string>> GetMembersAsync(int part, int parts);

    /// <summary>
    /// At most <paramref name="limit"/> member ids, in the order of their keys (<see cref="Naming.SocketKey"/>), from the
    /// first after member id <paramref name="after"/> (null: from the first). The order does not depend on when members
    /// came or on the activation, so a walk from page to page lists a member present throughout exactly once.
    /// </summary>
    [AlwaysInterleave]
    Task<MemberPage> GetMembersAfterAsync(string? after, int limit);

    /// <summary>
    /// Gateway <paramref name="gateway"/> left the cluster: its members leave the room (they cannot be reached, and their
    /// sessions will not take them out). Returns the room events this grain is the one to report: a room deleted when
    /// that left it empty; for a session whose socket was on that gateway, its leaving each of its rooms.
    /// </summary>
    Task<ImmutableArray<RoomEvent>> OnGatewayLostAsync(SiloAddress gateway);
}

/// <summary>The room of one namespace that is not a socket's own room (key <c>namespace,room</c>).</summary>
internal interface IRoomGrain : IRoomMembers, IGrainWithStringKey
{
    /// <summary>The grain type of the room grain (part of its grain ids: the same on every silo of a cluster).</summary>
    public const string GrainTypeName = "orleansrooms-room";
}

/// <summary>One change of a room's members: socket <see cref="SocketId"/> joins, hosted by <see cref="Gateway"/>, or (no gateway) leaves.</summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.member-change")]
internal readonly record struct MemberChange(
    [property: Id(0)] string SocketId,
    [property: Id(1)] SiloAddress? Gateway);

/// <summary>A page of a room's member ids, in key order, and whether members follow the last of them.</summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.member-page")]
internal sealed record MemberPage(
    [property: Id(0)] ImmutableArray<string> Ids,
    [property: Id(1)] bool More);

/// <summary>Which gateways host members of a room, and the version of that answer (a route cache keeps the newest).</summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.room-route")]
internal sealed record RoomRoute(
    [property: Id(0)] ImmutableArray<SiloAddress> Gateways,
    [property: Id(1)] long Version);


