namespace OrleansRooms;

/// <summary>
/// Thrown by namespace middleware to refuse a connection: the client receives a CONNECT_ERROR with
/// <see cref="Exception.Message"/> and <see cref="Details"/> (Socket.IO's <c>next(err)</c> with <c>err.data</c>).
/// Any other exception refuses the connection too, but the client only sees a generic message.
/// </summary>
public sealed class ConnectionRejectedException : Exception
{
    /// <summary>Refuses with a message.</summary>
    public ConnectionRejectedException(string message) : base(message)
    {
    }

    /// <summary>Refuses with a message and details sent to the client.</summary>
    public ConnectionRejectedException(string message, object? data) : base(message)
    {
        Details = data;
    }

    /// <summary>Refuses with a message and an inner exception (not sent to the client).</summary>
    public ConnectionRejectedException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates an exception with a generic message.</summary>
    public ConnectionRejectedException() : base("Connection rejected")
    {
    }

    /// <summary>Details sent to the client as <c>data</c> (serialized as JSON).</summary>
    public object? Details { get; }
}
