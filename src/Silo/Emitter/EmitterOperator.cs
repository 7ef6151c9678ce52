using OrleansRooms.Grains;

namespace OrleansRooms.Emitter;

/// <summary>
/// Targets sockets of one namespace from outside the Socket.IO servers: <c>To</c>/<c>In</c> add rooms (a union),
/// <c>Except</c> excludes rooms, <c>Volatile</c> lets the event be dropped for sockets not ready for it. Immutable:
/// each call returns a new operator, so a partly built one can be kept and reused.
/// </summary>
public sealed class EmitterOperator
{
    private static readonly HashSet<string> ReservedEvents =
        ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"];

    private readonly SocketIOEmitter _emitter;
    private readonly string[] _rooms;
    private readonly string[] _except;
    private readonly ClusterMessageFlags _flags;

    internal EmitterOperator(SocketIOEmitter emitter, string nsp, string[] rooms, string[] except, ClusterMessageFlags flags)
    {
        _emitter = emitter;
        Namespace = nsp;
        _rooms = rooms;
        _except = except;
        _flags = flags;
    }

    /// <summary>The namespace the operator emits to.</summary>
    public string Namespace { get; }

    /// <summary>The rooms targeted (none: every socket of the namespace).</summary>
    public IReadOnlyList<string> Rooms => _rooms;

    /// <summary>The rooms excluded.</summary>
    public IReadOnlyList<string> ExceptRooms => _except;

    /// <summary>Marks the event as volatile: it may be lost for clients that cannot take it right now.</summary>
    public EmitterOperator Volatile => new(_emitter, Namespace, _rooms, _except, _flags | ClusterMessageFlags.Volatile);

    /// <summary>Targets a room (in addition to those already targeted).</summary>
    public EmitterOperator To(string room) => new(_emitter, Namespace, Add(_rooms, [room]), _except, _flags);

    /// <summary>Targets rooms (in addition to those already targeted).</summary>
    public EmitterOperator To(IEnumerable<string> rooms) => new(_emitter, Namespace, Add(_rooms, rooms), _except, _flags);

    /// <summary>Same as <see cref="To(string)"/>.</summary>
    public EmitterOperator In(string room) => To(room);

    /// <summary>Same as <see cref="To(IEnumerable{string})"/>.</summary>
    public EmitterOperator In(IEnumerable<string> rooms) => To(rooms);

    /// <summary>Excludes the sockets of a room.</summary>
    public EmitterOperator Except(string room) => new(_emitter, Namespace, _rooms, Add(_except, [room]), _flags);

    /// <summary>Excludes the sockets of rooms.</summary>
    public EmitterOperator Except(IEnumerable<string> rooms) => new(_emitter, Namespace, _rooms, Add(_except, rooms), _flags);

    /// <summary>
    /// Emits an event to the targeted sockets. Arguments are serialized with System.Text.Json; <c>byte[]</c>,
    /// <c>ReadOnlyMemory&lt;byte&gt;</c>, <c>Memory&lt;byte&gt;</c> and <c>ArraySegment&lt;byte&gt;</c> arguments travel as
    /// binary attachments (clients receive an ArrayBuffer / Buffer). Completes once Redis has taken the message.
    /// </summary>
    /// <exception cref="ArgumentException">The event name is reserved (<c>connect</c>, <c>disconnect</c>, ...).</exception>
    public Task EmitAsync(string eventName, params object?[] args)
    {
        ArgumentNullException.ThrowIfNull(eventName);
        if (ReservedEvents.Contains(eventName))
        {
            throw new ArgumentException($"\"{eventName}\" is a reserved event name.", nameof(eventName));
        }

        var (data, attachments) = EmitterPayload.Event(eventName, args ?? [null], _emitter.SerializerOptions, binary: true);
        return _emitter.PublishAsync(new ClusterMessage
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

    /// <summary>Makes the targeted sockets join <paramref name="rooms"/>, on whichever gateway they are connected.</summary>
    public Task SocketsJoinAsync(params string[] rooms) => PublishRequestAsync(ClusterMessageType.SocketsJoin, rooms);

    /// <summary>Makes the targeted sockets leave <paramref name="rooms"/>.</summary>
    public Task SocketsLeaveAsync(params string[] rooms) => PublishRequestAsync(ClusterMessageType.SocketsLeave, rooms);

    /// <summary>Disconnects the targeted sockets; with <paramref name="close"/>, also closes their underlying connections.</summary>
    public Task DisconnectSocketsAsync(bool close = false) => _emitter.PublishAsync(new ClusterMessage
    {
        Type = ClusterMessageType.DisconnectSockets,
        Namespace = Namespace,
        Rooms = _rooms,
        Except = _except,
        Flags = close ? ClusterMessageFlags.Close : ClusterMessageFlags.None,
    });

    /// <summary>
    /// Raises an event on every Socket.IO server of the namespace (its <c>serverSideEmit</c> handlers), not on
    /// clients. Acknowledgements are not supported (an emitter cannot receive answers).
    /// </summary>
    /// <exception cref="InvalidOperationException">Rooms were targeted or excluded: they do not apply to servers.</exception>
    public Task ServerSideEmitAsync(string eventName, params object?[] args)
    {
        ArgumentNullException.ThrowIfNull(eventName);
        if (_rooms.Length > 0 || _except.Length > 0)
        {
            throw new InvalidOperationException("ServerSideEmitAsync addresses the servers of a namespace: To, In and Except do not apply.");
        }

        if (ReservedEvents.Contains(eventName))
        {
            throw new ArgumentException($"\"{eventName}\" is a reserved event name.", nameof(eventName));
        }

        // Requests travel as JSON, as the official emitter's do: binary arguments are serialized as JSON too.
        var (data, _) = EmitterPayload.Event(eventName, args ?? [null], _emitter.SerializerOptions, binary: false);
        return _emitter.PublishAsync(new ClusterMessage { Type = ClusterMessageType.ServerSideEmit, Namespace = Namespace, Data = data });
    }

    private Task PublishRequestAsync(ClusterMessageType type, string[] rooms)
    {
        ArgumentNullException.ThrowIfNull(rooms);
        return _emitter.PublishAsync(new ClusterMessage
        {
            Type = type,
            Namespace = Namespace,
            Rooms = _rooms,
            Except = _except,
            TargetRooms = Add([], rooms),
        });
    }

    /// <summary>A new array with <paramref name="more"/> appended, without duplicates (rooms are a set).</summary>
    private static string[] Add(string[] rooms, IEnumerable<string> more)
    {
        ArgumentNullException.ThrowIfNull(more);
        var list = new List<string>(rooms);
        foreach (var room in more)
        {
            ArgumentNullException.ThrowIfNull(room, nameof(more));
            if (!list.Contains(room))
            {
                list.Add(room);
            }
        }

        return [.. list];
    }
}
