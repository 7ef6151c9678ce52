using OrleansRooms.Grains;

namespace OrleansRooms;

/// <summary>
/// The room bookkeeping of one namespace on this node (Socket.IO's <c>nsp.adapter</c>): the <see cref="Rooms"/> and
/// <see cref="Sids"/> maps, read-only, and the room events. Change membership with <c>socket.JoinAsync</c> and
/// <c>socket.LeaveAsync</c>. In a cluster these maps hold this node's sockets only, as in Socket.IO, and each room
/// event is raised once for the whole cluster: by the gateway hosting the socket, or, for the sockets of a gateway that
/// died, by the gateway that reaped them (<c>leave-room</c> for each room, <c>delete-room</c> when it became empty).
/// </summary>
public sealed class Adapter
{
    private readonly RoomTable<Socket> _table;
    private readonly INamespaceGrains _grains;

    internal Adapter(RoomTable<Socket> table, INamespaceGrains grains)
    {
        _table = table;
        _grains = grains;
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

    internal void RaiseReaped(string socketId, IReadOnlyList<string> left, IReadOnlyList<string> emptied)
    {
        foreach (var room in left)
        {
            LeaveRoom?.Invoke(room, socketId);
        }

        foreach (var room in emptied)
        {
            DeleteRoom?.Invoke(room);
        }
    }

    /// <summary>The ids of the sockets in <paramref name="room"/> on every gateway of the cluster (the room grain).</summary>
    public ValueTask<IReadOnlyCollection<string>> GetRoomMembersAsync(string room, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(room);
        return _grains.GetRoom(room).GetMembersAsync(cancellationToken);
    }

    /// <summary>The rooms of socket <paramref name="socketId"/>, wherever it is connected (the socket grain).</summary>
    public ValueTask<IReadOnlyCollection<string>> GetSocketRoomsAsync(string socketId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(socketId);
        return _grains.GetSocket(socketId).GetRoomsAsync(cancellationToken);
    }

    /// <summary>Every room with at least one socket, on every gateway of the cluster.</summary>
    public ValueTask<IReadOnlyCollection<string>> GetRoomNamesAsync(CancellationToken cancellationToken = default) =>
        _grains.GetRoomNamesAsync(cancellationToken);
}
