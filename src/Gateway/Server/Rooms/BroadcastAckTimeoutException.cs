namespace OrleansRooms;

/// <summary>
/// Some sockets did not acknowledge a broadcast in time, or a server it was sent to could not answer for its sockets
/// (it left the cluster); <see cref="Responses"/> holds the answers that did arrive.
/// </summary>
public sealed class BroadcastAckTimeoutException : TimeoutException
{
    /// <summary>Creates the exception with the responses received before the timeout.</summary>
    public BroadcastAckTimeoutException(IReadOnlyList<SocketArguments> responses)
        : base("Some sockets did not acknowledge the broadcast in time.")
    {
        Responses = responses;
    }

    /// <summary>Creates the exception with the responses received and a message that says why the others are missing.</summary>
    public BroadcastAckTimeoutException(IReadOnlyList<SocketArguments> responses, string message)
        : base(message)
    {
        Responses = responses;
    }

    /// <summary>Creates the exception with no responses.</summary>
    public BroadcastAckTimeoutException() : this([])
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public BroadcastAckTimeoutException(string message) : base(message)
    {
        Responses = [];
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public BroadcastAckTimeoutException(string message, Exception innerException) : base(message, innerException)
    {
        Responses = [];
    }

    /// <summary>The acknowledgements that arrived in time (each one's arguments).</summary>
    public IReadOnlyList<SocketArguments> Responses { get; }
}
