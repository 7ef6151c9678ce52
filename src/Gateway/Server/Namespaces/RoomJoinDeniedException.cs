namespace OrleansRooms;

/// <summary>
/// Thrown by <see cref="Socket.JoinAsync(string)"/> when a guard added with <see cref="Namespace.AuthorizeJoin(Func{Socket, string, ValueTask{bool}})"/>
/// refuses a room: the socket joined none of the rooms asked for.
/// </summary>
public sealed class RoomJoinDeniedException : Exception
{
    /// <summary>Creates the exception for <paramref name="socketId"/> refused <paramref name="room"/>.</summary>
    public RoomJoinDeniedException(string socketId, string room)
        : base($"Socket {socketId} may not join room '{room}'.")
    {
        SocketId = socketId;
        Room = room;
    }

    /// <summary>Creates an exception with a generic message.</summary>
    public RoomJoinDeniedException() : base("The socket may not join the room.")
    {
        SocketId = string.Empty;
        Room = string.Empty;
    }

    /// <summary>Creates an exception with <paramref name="message"/> and an inner exception.</summary>
    public RoomJoinDeniedException(string message, Exception innerException) : base(message, innerException)
    {
        SocketId = string.Empty;
        Room = string.Empty;
    }

    /// <summary>The socket that was refused.</summary>
    public string SocketId { get; }

    /// <summary>The room the socket was refused.</summary>
    public string Room { get; }
}
