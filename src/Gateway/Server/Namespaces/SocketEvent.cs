namespace OrleansRooms;

/// <summary>An event received from a client: its name, its arguments and, when the client asked for one, its acknowledgement.</summary>
public sealed class SocketEvent
{
    private readonly long? _ackId;
    private int _acknowledged;

    internal SocketEvent(Socket socket, string name, SocketArguments arguments, long? ackId)
    {
        Socket = socket;
        Name = name;
        Arguments = arguments;
        _ackId = ackId;
    }

    /// <summary>The socket that sent the event.</summary>
    public Socket Socket { get; }

    /// <summary>The event name.</summary>
    public string Name { get; }

    /// <summary>The event's arguments (the acknowledgement callback is not one of them).</summary>
    public SocketArguments Arguments { get; }

    /// <summary>True when the client passed an acknowledgement callback.</summary>
    public bool HasAck => _ackId.HasValue;

    /// <summary>Sends the acknowledgement with <paramref name="args"/>; only the first call sends, later ones are ignored.</summary>
    /// <returns>True when this call sent it.</returns>
    public bool Ack(params object?[] args)
    {
        if (_ackId is not { } id || Interlocked.Exchange(ref _acknowledged, 1) != 0)
        {
            return false;
        }

        return Socket.SendAck(id, args);
    }

    /// <summary>Argument <paramref name="index"/> deserialized as <typeparamref name="T"/>.</summary>
    public T? Get<T>(int index) => Arguments.Get<T>(index);

    /// <inheritdoc />
    public override string ToString() => $"{Name} {Arguments}";
}
