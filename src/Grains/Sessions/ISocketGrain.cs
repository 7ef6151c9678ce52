using System.Collections.Immutable;
using Orleans.Concurrency;
using OrleansRooms.Grains.Rooms;

namespace OrleansRooms.Grains.Sessions;

/// <summary>
/// A socket's session (key <c>namespace,socketId</c>): the socket's half of the membership relation (the rooms it
/// joined), the gateway its connection is on, and the room named by its id (<see cref="IRoomMembers"/>: the socket
/// itself, and any other socket that joined that room). It is the truth for the socket's rooms: the gateway's table
/// is a cache of what the session accepted. Placed on a silo other than its gateway's (<see cref="SessionPlacementAttribute"/>),
/// so it outlives the gateway; lost with its own silo, the gateway restores it from its cache.
/// </summary>
internal interface ISocketGrain : IRoomMembers, IGrainWithStringKey
{
    /// <summary>
    /// Starts the session of a new socket connected through <paramref name="gateway"/>, in its own room; returns the silo
    /// the session lives on (the gateway restores the session if that silo dies).
    /// </summary>
    Task<SiloAddress> ConnectAsync(SiloAddress gateway);

    /// <summary>
    /// Restores a session lost with its silo from the gateway's view: connected through <paramref name="gateway"/>, in
    /// <paramref name="rooms"/>, and in none of <paramref name="reconcile"/> that is not among them. Returns the session's silo.
    /// </summary>
    Task<SiloAddress> RestoreAsync(SiloAddress gateway, ImmutableArray<string> rooms, ImmutableArray<string> reconcile);

    /// <summary>
    /// Joins <paramref name="rooms"/> (rooms already joined are left as they are), writing each room's half. Either every
    /// room is joined or, when a room cannot be written within the retry bound, none is and it throws
    /// <see cref="RoomMembershipException"/>. <paramref name="reconcile"/>: rooms whose last change failed, written again
    /// to match the session.
    /// </summary>
    Task<SessionAnswer> JoinAsync(SiloAddress gateway, ImmutableArray<string> rooms, ImmutableArray<string> reconcile);

    /// <summary>Leaves <paramref name="rooms"/>, all or none, like <see cref="JoinAsync"/>.</summary>
    Task<SessionAnswer> LeaveAsync(SiloAddress gateway, ImmutableArray<string> rooms, ImmutableArray<string> reconcile);

    /// <summary>
    /// Ends the session: leaves every room it is in and each of <paramref name="rooms"/> (what the gateway knew, in case
    /// the session was lost). Throws when a room could not be written within the bound; the gateway calls again later.
    /// </summary>
    Task DisconnectAsync(SiloAddress gateway, ImmutableArray<string> rooms);

    /// <summary>The rooms the socket is in, its own-id room first; empty when it is not connected.</summary>
    [AlwaysInterleave]
    Task<ImmutableArray<string>> GetRoomsAsync();
}

/// <summary>How a session answered a gateway.</summary>
[GenerateSerializer]
internal enum SessionAnswer
{
    /// <summary>Done.</summary>
    Done,

    /// <summary>The session is not connected: it was lost with its silo (the gateway restores it), or has ended.</summary>
    NotConnected,

    /// <summary>The session is connected through another gateway.</summary>
    OtherGateway,
}

/// <summary>A change of a socket's rooms could not be recorded in the cluster within the retry bound; nothing changed.</summary>
[GenerateSerializer, Alias("orleansrooms.room-membership-exception")]
public sealed class RoomMembershipException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RoomMembershipException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public RoomMembershipException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the failure that caused it.</summary>
    public RoomMembershipException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
