using System.Collections.Immutable;
using OrleansRooms.Grains.Messages;

namespace OrleansRooms.Silo.Emitter;

/// <summary>
/// Targets sockets of one namespace from a process that is not a gateway: <c>To</c>/<c>In</c> add rooms (a union),
/// <c>Except</c> excludes rooms, <c>Volatile</c> lets the event be dropped for sockets that cannot take it at once.
/// Immutable: each call returns a new operator, so a partly built one can be kept and reused.
/// </summary>
public sealed class EmitterOperator
{
    private readonly SocketIOEmitter _emitter;
    private readonly ImmutableArray<string> _rooms;
    private readonly ImmutableArray<string> _except;
    private readonly ClusterMessageFlags _flags;

    internal EmitterOperator(SocketIOEmitter emitter, string nsp, ImmutableArray<string> rooms, ImmutableArray<string> except, ClusterMessageFlags flags)
    {
        _emitter = emitter;
        Namespace = nsp;
        _rooms = rooms;
        _except = except;
        _flags = flags;
    }

    /// <summary>The namespace the operator emits to.</summary>
    public string Namespace { get; }

    /// <summary>The rooms targeted; none targets every socket of the namespace.</summary>
    public IReadOnlyList<string> Rooms => _rooms;

    /// <summary>The rooms whose sockets are excluded.</summary>
    public IReadOnlyList<string> ExceptRooms => _except;

    /// <summary>Marks the event as volatile: it may be lost for clients that cannot take it right now.</summary>
    public EmitterOperator Volatile => new(_emitter, Namespace, _rooms, _except, _flags | ClusterMessageFlags.Volatile);

    /// <summary>Targets <paramref name="room"/>, in addition to the rooms already targeted.</summary>
    public EmitterOperator To(string room) => new(_emitter, Namespace, Add(_rooms, [room]), _except, _flags);

    /// <summary>Targets <paramref name="rooms"/>, in addition to the rooms already targeted.</summary>
    public EmitterOperator To(IEnumerable<string> rooms) => new(_emitter, Namespace, Add(_rooms, rooms), _except, _flags);

    /// <summary>Same as <see cref="To(string)"/>.</summary>
    public EmitterOperator In(string room) => To(room);

    /// <summary>Same as <see cref="To(IEnumerable{string})"/>.</summary>
    public EmitterOperator In(IEnumerable<string> rooms) => To(rooms);

    /// <summary>Excludes the sockets of <paramref name="room"/>.</summary>
    public EmitterOperator Except(string room) => new(_emitter, Namespace, _rooms, Add(_except, [room]), _flags);

    /// <summary>Excludes the sockets of <paramref name="rooms"/>.</summary>
    public EmitterOperator Except(IEnumerable<string> rooms) => new(_emitter, Namespace, _rooms, Add(_except, rooms), _flags);

    /// <summary>
    /// Emits an event to the targeted sockets, wherever they are connected: the event is encoded once and sent once to
    /// each gateway hosting a targeted socket. Binary arguments (<c>byte[]</c>, <c>ReadOnlyMemory&lt;byte&gt;</c>, ...),
    /// top-level or nested, reach clients as binary. Completes once every such gateway has taken the event, so an emit
    /// awaited after another reaches each socket after it.
    /// </summary>
    /// <exception cref="ArgumentException">The event name is empty or reserved (<c>connect</c>, <c>disconnect</c>, ...).</exception>
    public ValueTask EmitAsync(string eventName, params object?[] args)
    {
        ThrowIfReserved(eventName);
        ArgumentNullException.ThrowIfNull(args);
        var (data, attachments) = EventPayload.Encode(eventName, args, _emitter.JsonSerializerOptions);
        return _emitter.SendAsync(new ClusterMessage
        {
            Type = ClusterMessageType.Broadcast,
            Namespace = Namespace,
            Rooms = _rooms,
            Except = _except,
            Flags = _flags,
            Data = data,
            Attachments = attachments,
        });
    }

    /// <summary>Makes the targeted sockets join <paramref name="room"/>.</summary>
    /// <inheritdoc cref="SocketsJoinAsync(IEnumerable{string})" path="/remarks"/>
    public ValueTask SocketsJoinAsync(string room) => SocketsJoinAsync([room]);

    /// <summary>Makes the targeted sockets join each of <paramref name="rooms"/>, on whichever gateway they are connected.</summary>
    /// <remarks>
    /// Completes once each gateway hosting a targeted socket has taken the request; the gateways apply it right after,
    /// as with the official emitter (an emitter receives no answer). Unlike a gateway's <c>SocketsJoinAsync</c>, it does
    /// not wait for the membership to be written.
    /// </remarks>
    public ValueTask SocketsJoinAsync(IEnumerable<string> rooms) => SendRequestAsync(ClusterMessageType.SocketsJoin, rooms);

    /// <summary>Makes the targeted sockets leave <paramref name="room"/>.</summary>
    /// <inheritdoc cref="SocketsJoinAsync(IEnumerable{string})" path="/remarks"/>
    public ValueTask SocketsLeaveAsync(string room) => SocketsLeaveAsync([room]);

    /// <summary>Makes the targeted sockets leave each of <paramref name="rooms"/>.</summary>
    /// <inheritdoc cref="SocketsJoinAsync(IEnumerable{string})" path="/remarks"/>
    public ValueTask SocketsLeaveAsync(IEnumerable<string> rooms) => SendRequestAsync(ClusterMessageType.SocketsLeave, rooms);

    /// <summary>Disconnects the targeted sockets; with <paramref name="close"/>, closes their underlying connections too.</summary>
    /// <inheritdoc cref="SocketsJoinAsync(IEnumerable{string})" path="/remarks"/>
    public ValueTask DisconnectSocketsAsync(bool close = false) => _emitter.SendAsync(new ClusterMessage
    {
        Type = ClusterMessageType.DisconnectSockets,
        Namespace = Namespace,
        Rooms = _rooms,
        Except = _except,
        Flags = close ? ClusterMessageFlags.Close : ClusterMessageFlags.None,
    });

    /// <summary>
    /// Raises <paramref name="eventName"/> on every gateway of the namespace (their <c>OnServerSideEmit</c> handlers), not
    /// on clients. Acknowledgements are not supported: an emitter receives no answer.
    /// </summary>
    /// <exception cref="InvalidOperationException">Rooms were targeted or excluded: they do not apply to servers.</exception>
    /// <exception cref="ArgumentException">The event name is empty or reserved.</exception>
    public ValueTask ServerSideEmitAsync(string eventName, params object?[] args)
    {
        if (_rooms.Length > 0 || _except.Length > 0)
        {
            throw new InvalidOperationException("ServerSideEmitAsync addresses the servers of a namespace: To, In and Except do not apply.");
        }

        ThrowIfReserved(eventName);
        ArgumentNullException.ThrowIfNull(args);
        var (data, attachments) = EventPayload.Encode(eventName, args, _emitter.JsonSerializerOptions);
        return _emitter.SendAsync(new ClusterMessage
        {
            Type = ClusterMessageType.ServerSideEmit,
            Namespace = Namespace,
            Data = data,
            Attachments = attachments,
        });
    }

    private ValueTask SendRequestAsync(ClusterMessageType type, IEnumerable<string> rooms) => _emitter.SendAsync(new ClusterMessage
    {
        Type = type,
        Namespace = Namespace,
        Rooms = _rooms,
        Except = _except,
        TargetRooms = Add([], rooms),
    });

    /// <summary><paramref name="rooms"/> with <paramref name="more"/> appended, each once (rooms are a set).</summary>
    private static ImmutableArray<string> Add(ImmutableArray<string> rooms, IEnumerable<string> more)
    {
        ArgumentNullException.ThrowIfNull(more);
        var list = rooms.ToBuilder();
        foreach (var room in more)
        {
            ArgumentNullException.ThrowIfNull(room, nameof(more));
            if (!list.Contains(room))
            {
                list.Add(room);
            }
        }

        return list.ToImmutable();
    }

    private static void ThrowIfReserved(string eventName)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        if (eventName is "connect" or "connect_error" or "disconnect" or "disconnecting" or "newListener" or "removeListener")
        {
            throw new ArgumentException($"\"{eventName}\" is a reserved event name.", nameof(eventName));
        }
    }
}
