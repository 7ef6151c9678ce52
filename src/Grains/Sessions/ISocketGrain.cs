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
    /// <summary>The grain type of the socket grain (part of its grain ids: the same on every silo of a cluster).</summary>
    public const string GrainTypeName = "orleansrooms-socket";

    /// <summary>
    /// Starts the session of a new socket connected through <paramref name="gateway"/>, in its own room; returns the silo
    /// the session lives on (the gateway restores the session if that silo dies).
    /// </summary>
    Task<SiloAddress> ConnectAsync(SiloAddress gateway);

    /// <summary>
    /// Like <see cref="ConnectAsync(SiloAddress)"/>, for a socket that may be recovered (connection state recovery):
    /// <paramref name="secret"/> is the secret of its private session id, which a client must show to recover it.
    /// </summary>
    Task<SiloAddress> ConnectAsync(SiloAddress gateway, ReadOnlyMemory<byte> secret);

    /// <summary>Keeps the socket's data (its JSON), to give back when it is recovered.</summary>
    Task SaveDataAsync(SiloAddress gateway, ReadOnlyMemory<byte> data);

    /// <summary>
    /// The socket's connection dropped in a way its client may recover from: the session leaves every room like
    /// <see cref="DisconnectAsync"/>, but keeps its rooms, <paramref name="data"/> and the broadcasts that reach it, for
    /// <see cref="Recovery.ConnectionStateRecoveryOptions.MaxDisconnectionDuration"/>. A session that cannot be recovered ends.
    /// </summary>
    Task SuspendAsync(SiloAddress gateway, ImmutableArray<string> rooms, ReadOnlyMemory<byte> data);

    /// <summary>
    /// A client asks, through <paramref name="gateway"/>, to recover the session with <paramref name="secret"/>. Granted
    /// to one gateway at a time: the rooms and data to restore the socket with.
    /// </summary>
    Task<RecoveryGrant> BeginRecoveryAsync(SiloAddress gateway, ReadOnlyMemory<byte> secret);

    /// <summary>
    /// Completes a recovery <see cref="BeginRecoveryAsync"/> granted: the broadcasts that reached the socket after
    /// <paramref name="from"/> and up to <paramref name="until"/> (where the gateway started delivering to it), in order;
    /// the session is then connected through <paramref name="gateway"/> and in its rooms again. Waits at most
    /// <paramref name="wait"/> for its silo to have taken every broadcast up to <paramref name="until"/>. Null when the
    /// session cannot guarantee them all: it has ended, and the client gets a new session.
    /// </summary>
    Task<RecoveryReplay?> ResumeAsync(SiloAddress gateway, Recovery.RecoveryVector from, Recovery.RecoveryVector until, TimeSpan wait);

    /// <summary>
    /// A cluster-wide <c>socketsJoin</c>, <c>socketsLeave</c> or <c>disconnectSockets</c> selected this disconnected
    /// socket: its kept rooms change (it is recovered in them), or it cannot be recovered any more.
    /// </summary>
    Task ChangeWhileSuspendedAsync(Messages.ClusterMessageType type, ImmutableArray<string> rooms);

    /// <summary>A recovery <see cref="BeginRecoveryAsync"/> granted to <paramref name="gateway"/> did not go on; the session waits for its client again.</summary>
    Task AbandonRecoveryAsync(SiloAddress gateway);

    /// <summary>
    /// Restores a session lost with its silo from the gateway's view: connected through <paramref name="gateway"/>, in
    /// <paramref name="rooms"/>, and in none of <paramref name="reconcile"/> that is not among them. Returns the session's silo.
    /// </summary>
    Task<SiloAddress> RestoreAsync(SiloAddress gateway, ImmutableArray<string> rooms, ImmutableArray<string> reconcile);

    /// <summary>Like <see cref="RestoreAsync(SiloAddress, ImmutableArray{string}, ImmutableArray{string})"/>, for a socket its client may recover with <paramref name="secret"/>.</summary>
    Task<SiloAddress> RestoreAsync(SiloAddress gateway, ImmutableArray<string> rooms, ImmutableArray<string> reconcile, ReadOnlyMemory<byte> secret);

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

/// <summary>Whether a session can be recovered, and with what.</summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.recovery-grant")]
internal sealed record RecoveryGrant(
    [property: Id(0)] RecoveryAnswer Answer,
    [property: Id(1)] ImmutableArray<string> Rooms,
    [property: Id(2)] ReadOnlyMemory<byte> Data,
    [property: Id(3)] SiloAddress? Gateway = null)
{
    public static readonly RecoveryGrant Unknown = new(RecoveryAnswer.Unknown, [], default);

    /// <summary>Still connected through <paramref name="gateway"/>, or (null) being recovered through another gateway.</summary>
    public static RecoveryGrant Connected(SiloAddress? gateway) => new(RecoveryAnswer.Connected, [], default, gateway);
}

/// <summary>What a recovered socket missed, in order, and the silo its session lives on.</summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.recovery-replay")]
internal sealed record RecoveryReplay(
    [property: Id(0)] SiloAddress Silo,
    [property: Id(1)] ImmutableArray<Messages.ClusterMessage> Missed);

/// <summary>A session's answer to a client that asks to recover it.</summary>
[GenerateSerializer]
internal enum RecoveryAnswer
{
    /// <summary>Granted: the socket's rooms (its own room included unless it left it) and data follow.</summary>
    Granted,

    /// <summary>No such session to recover: never one, wrong secret, ended, or expired.</summary>
    Unknown,

    /// <summary>The socket is still connected, or being recovered elsewhere.</summary>
    Connected,
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
