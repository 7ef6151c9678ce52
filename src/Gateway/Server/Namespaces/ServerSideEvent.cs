namespace OrleansRooms;

/// <summary>An event another Socket.IO server of the cluster (or an emitter) sent with <c>ServerSideEmitAsync</c>.</summary>
public sealed class ServerSideEvent
{
    private readonly Func<object?[], bool>? _ack;
    private int _acknowledged;

    internal ServerSideEvent(string name, SocketArguments arguments, Func<object?[], bool>? ack)
    {
        Name = name;
        Arguments = arguments;
        _ack = ack;
    }

    /// <summary>The event name.</summary>
    public string Name { get; }

    /// <summary>The event's arguments.</summary>
    public SocketArguments Arguments { get; }

    /// <summary>True when the sending server waits for an acknowledgement.</summary>
    public bool HasAck => _ack is not null;

    /// <summary>Argument <paramref name="index"/> deserialized as <typeparamref name="T"/>.</summary>
    public T? Get<T>(int index) => Arguments.Get<T>(index);

    /// <summary>Answers the sending server; only the first call sends.</summary>
    public bool Ack(params object?[] args) =>
        _ack is not null && Interlocked.Exchange(ref _acknowledged, 1) == 0 && _ack(args);
}
