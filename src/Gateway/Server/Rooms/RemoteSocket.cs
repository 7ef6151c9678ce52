namespace OrleansRooms;

/// <summary>
/// A socket returned by <c>FetchSocketsAsync</c>, on this gateway or another: a copy of its id, handshake, rooms
/// and data when fetched, and the operations that can be applied to it wherever it is connected. For a socket on
/// another gateway, <see cref="Handshake"/>'s user is anonymous and <see cref="Data"/> values are JSON elements.
/// </summary>
public sealed class RemoteSocket
{
    private readonly Namespace _namespace;

    internal RemoteSocket(Socket socket)
        : this(socket.Namespace, socket.Id, socket.Handshake, socket.Rooms, new Dictionary<string, object?>(socket.Data, StringComparer.Ordinal))
    {
    }

    internal RemoteSocket(Namespace nsp, string id, Handshake handshake, IReadOnlySet<string> rooms, IReadOnlyDictionary<string, object?> data)
    {
        _namespace = nsp;
        Id = id;
        Handshake = handshake;
        Rooms = rooms;
        Data = data;
    }

    /// <summary>The socket id.</summary>
    public string Id { get; }

    /// <summary>The handshake details.</summary>
    public Handshake Handshake { get; }

    /// <summary>The rooms the socket was in when fetched.</summary>
    public IReadOnlySet<string> Rooms { get; }

    /// <summary>The socket's <c>Data</c> when fetched.</summary>
    public IReadOnlyDictionary<string, object?> Data { get; }

    /// <summary>Sends an event to the socket.</summary>
    public ValueTask EmitAsync(string eventName, params object?[] args) => _namespace.To(Id).EmitAsync(eventName, args);

    /// <summary>Makes the socket join <paramref name="room"/>.</summary>
    public ValueTask JoinAsync(string room) => _namespace.To(Id).SocketsJoinAsync(room);

    /// <summary>Makes the socket join each of <paramref name="rooms"/>.</summary>
    public ValueTask JoinAsync(IEnumerable<string> rooms) => _namespace.To(Id).SocketsJoinAsync(rooms);

    /// <summary>Makes the socket leave <paramref name="room"/>.</summary>
    public ValueTask LeaveAsync(string room) => _namespace.To(Id).SocketsLeaveAsync(room);

    /// <summary>Disconnects the socket; with <paramref name="close"/>, closes its connection too.</summary>
    public ValueTask DisconnectAsync(bool close = false) => _namespace.To(Id).DisconnectSocketsAsync(close);
}
