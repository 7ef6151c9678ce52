using OrleansRooms.Cluster;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Rooms;

namespace OrleansRooms;

/// <summary>
/// The room bookkeeping of one namespace on this node (Socket.IO's <c>nsp.adapter</c>): the <see cref="Rooms"/> and
/// <see cref="Sids"/> maps, read-only, and the room events. Change membership with <c>socket.JoinAsync</c> and
/// <c>socket.LeaveAsync</c>. In a cluster these maps hold this node's sockets only, as in Socket.IO (a copy of what
/// their sessions in the cluster accepted), and each room event is raised once for the whole cluster: by the gateway
/// hosting the socket, or, for the sockets of a gateway that died, by one live gateway chosen for it
/// (<c>leave-room</c> for each room, <c>delete-room</c> when it became empty cluster-wide).
/// </summary>
public sealed class Adapter
{
    private readonly RoomTable<Socket> _table;
    private readonly NamespaceCluster _cluster;

    private readonly RoomPresence _presence;

    internal Adapter(RoomTable<Socket> table, NamespaceCluster cluster, RoomPresence presence)
    {
        _table = table;
        _cluster = cluster;
        _presence = presence;
        table.RoomCreated += room => CreateRoom?.Invoke(room);
        table.RoomDeleted += room => DeleteRoom?.Invoke(room);
        table.MemberJoined += (room, id) => JoinRoom?.Invoke(room, id);
        table.MemberLeft += (room, id) => LeaveRoom?.Invoke(room, id);
    }

    /// <summary>Raised when a room is created (<c>create-room</c>): its first socket joined.</summary>
    public event Action<string>? CreateRoom;

    /// <summary>Raised when a room is deleted (<c>delete-room</c>): its last socket left.</summary>
    public event Action<string>? DeleteRoom;

    /// <summary>Raised when a socket joins a room (<c>join-room</c>): (room, socket id).</summary>
    public event Action<string, string>? JoinRoom;

    /// <summary>Raised when a socket leaves a room (<c>leave-room</c>): (room, socket id).</summary>
    public event Action<string, string>? LeaveRoom;

    /// <summary>A copy of the <c>rooms</c> map: room name to the ids of its sockets.</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<string>> Rooms => _table.SnapshotRooms();

    /// <summary>A copy of the <c>sids</c> map: socket id to the names of its rooms.</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<string>> Sids => _table.SnapshotSids();

    /// <summary>Raises the event of one change of a dead gateway's sockets, released by this gateway for the cluster.</summary>
    internal void RaiseReleased(RoomEvent change)
    {
        if (change.SocketId is { } socketId)
        {
            LeaveRoom?.Invoke(change.Room, socketId);
            _presence.Released(change.Room, socketId);
        }
        else
        {
            DeleteRoom?.Invoke(change.Room);
        }
    }

    /// <summary>How many sockets are in <paramref name="room"/> on every gateway of the cluster (the room's grain: one call, whatever its size).</summary>
    public ValueTask<int> GetRoomMemberCountAsync(string room)
    {
        ArgumentNullException.ThrowIfNull(room);
        return new(_cluster.CountRoomMembersAsync(room));
    }

    /// <summary>The ids of the sockets in <paramref name="room"/> on every gateway of the cluster (the room's grain, read in pages).</summary>
    public ValueTask<IReadOnlyCollection<string>> GetRoomMembersAsync(string room)
    {
        ArgumentNullException.ThrowIfNull(room);
        return new(_cluster.GetRoomMembersAsync(room));
    }

    /// <summary>
    /// One page of the ids of the sockets in <paramref name="room"/> on every gateway of the cluster: one call to the
    /// room's grain, which scans its members once (no sorted copy is kept). Start with no
    /// <paramref name="continuationToken"/> and pass each page's <see cref="RoomMembersPage.ContinuationToken"/> to read
    /// the next, until it is null. Members come in an order of their own (not alphabetical) that does not change while
    /// members come and go, so a walk lists a socket that is in the room for the whole walk exactly once; a socket that
    /// joins or leaves during it may or may not be listed.
    /// </summary>
    /// <param name="room">The room.</param>
    /// <param name="pageSize">At most this many ids per page, from 1 to <see cref="RoomMembersPage.MaxPageSize"/>.</param>
    /// <param name="continuationToken">The token of the page before, or null for the first page.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pageSize"/> is out of range.</exception>
    /// <exception cref="ArgumentException"><paramref name="continuationToken"/> is not a token of a room's page.</exception>
    public async ValueTask<RoomMembersPage> GetRoomMembersAsync(string room, int pageSize, string? continuationToken = null)
    {
        ArgumentNullException.ThrowIfNull(room);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, RoomMembersPage.MaxPageSize);
        if (continuationToken is not null && !Grains.Naming.SocketKey.TryParse(continuationToken, out _))
        {
            throw new ArgumentException("Not a continuation token of a room's member pages.", nameof(continuationToken));
        }

        var page = await _cluster.GetRoomMembersPageAsync(room, continuationToken, pageSize).ConfigureAwait(false);
        // The token is the last id of the page: where the next page starts, whatever joined or left meanwhile.
        return new RoomMembersPage(page.Ids, page.More ? page.Ids[^1] : null);
    }

    /// <summary>The rooms of socket <paramref name="socketId"/>, wherever it is connected (the socket grain).</summary>
    public ValueTask<IReadOnlyCollection<string>> GetSocketRoomsAsync(string socketId)
    {
        ArgumentNullException.ThrowIfNull(socketId);
        return new(_cluster.GetSocketRoomsAsync(socketId));
    }

    /// <summary>
    /// Every room with at least one socket, on every gateway of the cluster; with <paramref name="includeSocketRooms"/>
    /// false, without the rooms named by the sockets' ids (the rooms sockets joined: a listing that does not grow with
    /// the connections).
    /// </summary>
    public ValueTask<IReadOnlyCollection<string>> GetRoomNamesAsync(bool includeSocketRooms = true) => new(_cluster.GetRoomNamesAsync(includeSocketRooms));

    /// <summary>The ids of every socket of the namespace, on every gateway of the cluster.</summary>
    public ValueTask<IReadOnlyCollection<string>> GetSocketIdsAsync() => new(_cluster.GetSocketIdsAsync());
}
