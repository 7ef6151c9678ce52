namespace OrleansRooms;

/// <summary>The socket disconnected before it answered.</summary>
public sealed class SocketDisconnectedException : Exception
{
    /// <summary>Creates the exception for socket <paramref name="socketId"/>.</summary>
    public SocketDisconnectedException(string socketId) : base($"Socket {socketId} disconnected before it acknowledged.")
    {
        SocketId = socketId;
    }

    /// <summary>Creates the exception with a generic message.</summary>
    public SocketDisconnectedException() : base("The socket disconnected before it acknowledged.")
    {
        SocketId = string.Empty;
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public SocketDisconnectedException(string message, Exception innerException) : base(message, innerException)
    {
        SocketId = string.Empty;
    }

    /// <summary>The socket that disconnected.</summary>
    public string SocketId { get; }
}
