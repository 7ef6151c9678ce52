namespace OrleansRooms;

/// <summary>
/// A socket returned by <c>FetchSocketsAsync</c>: a copy of its id, handshake, rooms and data when fetched, and the
/// operations that can be applied to it wherever it is connected.
/// </summary>
public sealed class RemoteSocket
{
    private readonly Socket _socket;

    internal RemoteSocket(Socket socket)
    {
        _socket = socket;
        Id = socket.Id;
        Handshake = socket.Handshake;
        Rooms = socket.Rooms;
        Data = new Dictionary<string, object?>(socket.Data, StringComparer.Ordinal);
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
    public ValueTask EmitAsync(string eventName, params object?[] args) => _socket.EmitAsync(eventName, args);

    /// <summary>Makes the socket join <paramref name="room"/>.</summary>
    public ValueTask JoinAsync(string room) => _socket.JoinAsync(room);

    /// <summary>Makes the socket join each of <paramref name="rooms"/>.</summary>
    public ValueTask JoinAsync(IEnumerable<string> rooms) => _socket.JoinAsync(rooms);

    /// <summary>Makes the socket leave <paramref name="room"/>.</summary>
    public ValueTask LeaveAsync(string room) => _socket.LeaveAsync(room);

    /// <summary>Disconnects the socket; with <paramref name="close"/>, closes its connection too.</summary>
    public Task DisconnectAsync(bool close = false) => _socket.DisconnectAsync(close);
}
