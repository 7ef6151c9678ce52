using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Text.Json;
using OrleansRooms.Grains.Sessions;
using OrleansRooms.Hosting;
using OrleansRooms.Protocol;
using OrleansRooms.Rooms;

namespace OrleansRooms;

/// <summary>
/// One client's connection to one namespace (Socket.IO's <c>Socket</c>). It is in the room named by its
/// <see cref="Id"/> from connection until disconnection, when it leaves every room with no code of yours.
/// </summary>
public sealed class Socket : IRoomMember
{
    // A client that sends more than this before its connection handlers even started is flooding.
    private const int MaxEarlyPackets = 16;

    private readonly Lock _lock = new();

    // Created on first use: an idle socket of a server with many connections should hold only what it uses.
    // Handler arrays are replaced, never changed, so dispatch reads them without copying.
    private Dictionary<string, Func<SocketEvent, Task?>[]>? _handlers;
    private Dictionary<int, IAckReceiver>? _pendingAcks;
    private ConcurrentDictionary<string, object?>? _data;
    private List<(Delegate Listener, Func<SocketEvent, Task?> Handler)>? _anyHandlers;
    private List<Action<string, object?[]>>? _outgoingHandlers;
    private List<Func<SocketEvent, Func<Task>, Task>>? _middlewares;
    private List<Func<string, Task?>>? _disconnectingHandlers;
    private List<Func<string, Task?>>? _disconnectHandlers;
    private List<Action<Exception>>? _errorHandlers;
    private int _state; // 0 connected, 1 disconnecting, 2 disconnected

    // Packets that arrived between the socket's CONNECT answer and the start of its connection handlers (a client does
    // not wait for them): kept in order and handed over once the handlers have started. Null, as almost always, when none did.
    private List<Packet>? _early;
    private bool _started;

    // Joins, leaves and the disconnection, one after the other: the last one under way. Rooms whose last change failed
    // are uncertain in the grains until the next call to the session writes them again (null, as almost always, when none).
    private Task _membership = Task.CompletedTask;
    private HashSet<string>? _uncertain;
    private ImmutableArray<string> _roomsAtClose = [];

    // While a recovered socket's missed packets are written, the broadcasts that reach it wait here (null otherwise).
    private List<EncodedPacket>? _held;

    internal Socket(Namespace nsp, Client client, string id, Handshake handshake, bool recovered = false)
    {
        Namespace = nsp;
        Client = client;
        Id = id;
        Handshake = handshake;
        Recovered = recovered;
        Session = nsp.Cluster.Session(id);
    }

    /// <summary>
    /// Whether this socket was recovered (connection state recovery): same id, rooms and data as before its client's
    /// connection dropped, and every packet broadcast to it meanwhile delivered before anything newer.
    /// </summary>
    public bool Recovered { get; }

    /// <summary>The socket id: random and unguessable, and the name of the socket's own room.</summary>
    public string Id { get; }

    /// <summary>The namespace the socket is connected to.</summary>
    public Namespace Namespace { get; }

    /// <summary>The server.</summary>
    public SocketIOServer Server => Namespace.Server;

    /// <summary>The handshake details.</summary>
    public Handshake Handshake { get; }

    /// <summary>Arbitrary data of the application, shared with <c>FetchSocketsAsync</c> (Socket.IO's <c>socket.data</c>).</summary>
    public IDictionary<string, object?> Data =>
        _data ?? Interlocked.CompareExchange(ref _data, new ConcurrentDictionary<string, object?>(StringComparer.Ordinal), null) ?? _data;

    /// <summary>Whether <see cref="Data"/> holds anything, without creating it.</summary>
    internal bool HasData => _data is { IsEmpty: false };

    /// <summary>True until the socket is disconnected.</summary>
    public bool Connected => System.Threading.Volatile.Read(ref _state) == 0;

    /// <summary>Whether the socket is still in its rooms: true while connected and during <c>disconnecting</c>.</summary>
    internal bool InRooms => System.Threading.Volatile.Read(ref _state) < 2;

    /// <summary>The current transport of the underlying connection: <c>polling</c> or <c>websocket</c>.</summary>
    public string Transport => Client.Connection.TransportName;

    /// <summary>The rooms the socket is in (a copy), its own id included; empty once disconnected.</summary>
    public IReadOnlySet<string> Rooms => new System.Collections.ObjectModel.ReadOnlySet<string>(new HashSet<string>(Namespace.Table.GetRooms(Id), StringComparer.Ordinal));

    /// <summary>Targets the other sockets of the namespace (all but this one).</summary>
    public BroadcastOperator Broadcast => Namespace.ToOperator().Except(Id);

    /// <summary>Targets the sockets of this node only, but this one.</summary>
    public BroadcastOperator Local => Namespace.ToOperator().Local.Except(Id);

    /// <summary>Emits without guarantee: dropped if the connection cannot take it right now.</summary>
    public SocketEmitter Volatile => new SocketEmitter(this).Volatile;

    internal Client Client { get; }

    internal bool HasOutgoingHandlers => _outgoingHandlers is not null;

    /// <summary>The socket's session in the cluster: the truth of its rooms, of which <see cref="Rooms"/> is this gateway's copy.</summary>
    internal ISocketGrain Session { get; }

    /// <summary>The silo the session lives on (when it dies, this gateway restores the session).</summary>
    internal SiloAddress? SessionSilo { get; set; }

    /// <summary>The private session id its client recovers with; null when the socket cannot be recovered.</summary>
    internal string? Pid { get; set; }

    /// <summary>Writes a broadcast's packet to this socket, or keeps it for after the missed packets while it is being recovered.</summary>
    internal void SendBroadcast(EncodedPacket packet, bool isVolatile)
    {
        if (System.Threading.Volatile.Read(ref _held) is not null)
        {
            lock (_lock)
            {
                if (_held is { } held)
                {
                    // A volatile packet is for a connection that can take it now, and this one cannot yet.
                    if (!isVolatile)
                    {
                        held.Add(packet);
                    }

                    return;
                }
            }
        }

        if (isVolatile)
        {
            Client.SendVolatile(packet);
        }
        else
        {
            Client.Send(packet);
        }
    }

    /// <summary>From now on, broadcasts wait until <see cref="ReleaseHeld"/>.</summary>
    internal void HoldBroadcasts()
    {
        lock (_lock)
        {
            _held ??= [];
        }
    }

    /// <summary>Writes the broadcasts that waited, in order, and lets the next ones through.</summary>
    internal void ReleaseHeld()
    {
        lock (_lock)
        {
            if (_held is { } held)
            {
                foreach (var packet in held)
                {
                    Client.Send(packet);
                }

                _held = null;
            }
        }
    }

    /// <summary>The socket's <see cref="Data"/> as JSON, for its session to give back when it is recovered; empty when it has none.</summary>
    internal ReadOnlyMemory<byte> DataJson() =>
        _data is { IsEmpty: false } data ? JsonSerializer.SerializeToUtf8Bytes(data, Server.JsonOptions) : default;

    /// <summary>Restores <see cref="Data"/> from <see cref="DataJson"/>; each value comes back as a <see cref="JsonElement"/>.</summary>
    internal void RestoreData(ReadOnlyMemory<byte> json)
    {
        if (json.IsEmpty)
        {
            return;
        }

        var values = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json.Span, Server.JsonOptions);
        foreach (var (key, value) in values ?? [])
        {
            Data[key] = value;
        }
    }

    /// <summary>Listens to event <paramref name="eventName"/>.</summary>
    public Socket On(string eventName, Action<SocketEvent> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return On(eventName, e =>
        {
            handler(e);
            return null;
        });
    }

    /// <summary>Listens to event <paramref name="eventName"/> with an asynchronous handler.</summary>
    public Socket On(string eventName, Func<SocketEvent, Task?> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        ArgumentNullException.ThrowIfNull(handler);
        lock (_lock)
        {
            _handlers ??= new Dictionary<string, Func<SocketEvent, Task?>[]>(StringComparer.Ordinal);
            _handlers[eventName] = _handlers.TryGetValue(eventName, out var list) ? [.. list, handler] : [handler];
        }

        return this;
    }

    /// <summary>Listens to event <paramref name="eventName"/>, whose first argument is read as <typeparamref name="T"/>.</summary>
    public Socket On<T>(string eventName, Action<T?> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return On(eventName, e => handler(e.Arguments.Count > 0 ? e.Get<T>(0) : default));
    }

    /// <summary>Stops listening to event <paramref name="eventName"/>.</summary>
    public Socket Off(string eventName)
    {
        lock (_lock)
        {
            _handlers?.Remove(eventName);
        }

        return this;
    }

    /// <summary>Listens to every incoming event, before the handlers of that event (Socket.IO's <c>onAny</c>).</summary>
    public Socket OnAny(Action<SocketEvent> handler) => AddAny(handler, prepend: false);

    /// <summary>Like <see cref="OnAny"/>, but runs before the catch-all listeners added so far (Socket.IO's <c>prependAny</c>).</summary>
    public Socket PrependAny(Action<SocketEvent> handler) => AddAny(handler, prepend: true);

    /// <summary>
    /// Removes <paramref name="handler"/> from the catch-all listeners (once, the earliest added, if it was added more
    /// than once); without a handler, removes them all (Socket.IO's <c>offAny</c>).
    /// </summary>
    public Socket OffAny(Action<SocketEvent>? handler = null)
    {
        lock (_lock)
        {
            if (handler is null)
            {
                _anyHandlers = null;
            }
            else if (_anyHandlers?.FindIndex(h => h.Listener.Equals(handler)) is int index and >= 0)
            {
                _anyHandlers.RemoveAt(index);
            }
        }

        return this;
    }

    /// <summary>Listens to every outgoing event, broadcasts included (Socket.IO's <c>onAnyOutgoing</c>).</summary>
    public Socket OnAnyOutgoing(Action<string, object?[]> handler) => AddAnyOutgoing(handler, prepend: false);

    /// <summary>Like <see cref="OnAnyOutgoing"/>, but runs before the outgoing listeners added so far (Socket.IO's <c>prependAnyOutgoing</c>).</summary>
    public Socket PrependAnyOutgoing(Action<string, object?[]> handler) => AddAnyOutgoing(handler, prepend: true);

    /// <summary>
    /// Removes <paramref name="handler"/> from the outgoing listeners (once, the earliest added); without a handler,
    /// removes them all (Socket.IO's <c>offAnyOutgoing</c>).
    /// </summary>
    public Socket OffAnyOutgoing(Action<string, object?[]>? handler = null)
    {
        lock (_lock)
        {
            if (handler is null)
            {
                _outgoingHandlers = null;
            }
            else if (_outgoingHandlers is { } handlers && handlers.Remove(handler) && handlers.Count == 0)
            {
                // Emits skip the outgoing listeners' work only when there are none.
                _outgoingHandlers = null;
            }
        }

        return this;
    }

    /// <summary>
    /// Adds packet middleware, run for every incoming event before any handler (Socket.IO's <c>socket.use</c>).
    /// Call <c>next</c> to go on; throw to stop the event, which then raises <see cref="OnError"/>.
    /// </summary>
    public Socket Use(Func<SocketEvent, Func<Task>, Task> middleware)
    {
        ArgumentNullException.ThrowIfNull(middleware);
        lock (_lock)
        {
            (_middlewares ??= []).Add(middleware);
        }

        return this;
    }

    /// <summary>Runs when packet middleware fails.</summary>
    public Socket OnError(Action<Exception> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_lock)
        {
            (_errorHandlers ??= []).Add(handler);
        }

        return this;
    }

    /// <summary>
    /// Runs when the socket is about to be disconnected, with the reason; it is still in its rooms
    /// (<see cref="Rooms"/> holds at least its id). An asynchronous handler is awaited before the rooms are left.
    /// </summary>
    public Socket OnDisconnecting(Action<string> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return OnDisconnecting(reason =>
        {
            handler(reason);
            return null;
        });
    }

    /// <inheritdoc cref="OnDisconnecting(Action{string})"/>
    public Socket OnDisconnecting(Func<string, Task?> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_lock)
        {
            (_disconnectingHandlers ??= []).Add(handler);
        }

        return this;
    }

    /// <summary>Runs once the socket is disconnected, with the reason; it is in no room any more.</summary>
    public Socket OnDisconnect(Action<string> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return OnDisconnect(reason =>
        {
            handler(reason);
            return null;
        });
    }

    /// <inheritdoc cref="OnDisconnect(Action{string})"/>
    public Socket OnDisconnect(Func<string, Task?> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_lock)
        {
            (_disconnectHandlers ??= []).Add(handler);
        }

        return this;
    }

    /// <summary>Sends event <paramref name="eventName"/> to this client.</summary>
    public ValueTask EmitAsync(string eventName, params object?[] args) => new SocketEmitter(this).EmitAsync(eventName, args);

    /// <summary>Sends event <paramref name="eventName"/> and waits for the client's acknowledgement.</summary>
    public ValueTask<SocketArguments> EmitWithAckAsync(string eventName, params object?[] args) =>
        new SocketEmitter(this).EmitWithAckAsync(eventName, args);

    /// <summary>Sets how long <c>EmitWithAckAsync</c> waits before it fails with <see cref="TimeoutException"/>.</summary>
    public SocketEmitter Timeout(TimeSpan timeout) => new SocketEmitter(this).Timeout(timeout);

    /// <summary>Whether the emits of the returned emitter may be compressed (default true); see <see cref="SocketEmitter.Compress"/>.</summary>
    public SocketEmitter Compress(bool compress) => new SocketEmitter(this).Compress(compress);

    /// <summary>Targets the sockets in <paramref name="room"/>, this one excluded. Chain to add rooms (union).</summary>
    public BroadcastOperator To(string room) => Broadcast.To(room);

    /// <summary>Targets the sockets in any of <paramref name="rooms"/>, this one excluded.</summary>
    public BroadcastOperator To(IEnumerable<string> rooms) => Broadcast.To(rooms);

    /// <summary>Same as <see cref="To(string)"/>.</summary>
    public BroadcastOperator In(string room) => To(room);

    /// <summary>Same as <see cref="To(IEnumerable{string})"/>.</summary>
    public BroadcastOperator In(IEnumerable<string> rooms) => To(rooms);

    /// <summary>Targets the other sockets except those in <paramref name="room"/>.</summary>
    public BroadcastOperator Except(string room) => Broadcast.Except(room);

    /// <summary>Targets the other sockets except those in any of <paramref name="rooms"/>.</summary>
    public BroadcastOperator Except(IEnumerable<string> rooms) => Broadcast.Except(rooms);

    /// <summary>
    /// Joins <paramref name="room"/>. Completes once the socket's session in the cluster has recorded it, and the room
    /// with it: a broadcast from any gateway that starts after that reaches the socket. Throws
    /// <see cref="RoomMembershipException"/> when the cluster cannot record it within its retry bound; the socket's
    /// rooms are then unchanged.
    /// </summary>
    public ValueTask JoinAsync(string room)
    {
        ArgumentNullException.ThrowIfNull(room);
        return JoinAsync([room]);
    }

    /// <summary>Joins each of <paramref name="rooms"/>: all of them, or (it throws) none.</summary>
    public ValueTask JoinAsync(IEnumerable<string> rooms)
    {
        var list = RoomList.From(rooms);
        if (!InRooms || list.Length == 0)
        {
            return ValueTask.CompletedTask;
        }

        lock (_lock)
        {
            // Already in every room, with nothing under way that could change it: nothing to write.
            if (_membership.IsCompleted && Namespace.Table.IsInAll(Id, list))
            {
                return ValueTask.CompletedTask;
            }

            return new ValueTask(_membership = ChangeAfterAsync(_membership, list, join: true));
        }
    }

    /// <summary>Leaves <paramref name="room"/>, once the session has recorded it (see <see cref="JoinAsync(string)"/>).</summary>
    public ValueTask LeaveAsync(string room)
    {
        ArgumentNullException.ThrowIfNull(room);
        return LeaveAsync([room]);
    }

    /// <summary>Leaves each of <paramref name="rooms"/>: all of them, or (it throws) none.</summary>
    public ValueTask LeaveAsync(IEnumerable<string> rooms)
    {
        var list = RoomList.From(rooms);
        if (!InRooms || list.Length == 0)
        {
            return ValueTask.CompletedTask;
        }

        lock (_lock)
        {
            if (_membership.IsCompleted && Namespace.Table.IsInNone(Id, list))
            {
                return ValueTask.CompletedTask;
            }

            return new ValueTask(_membership = ChangeAfterAsync(_membership, list, join: false));
        }
    }

    /// <summary>
    /// Disconnects the socket from its namespace (reason <c>server namespace disconnect</c>). With
    /// <paramref name="close"/>, closes the underlying connection too, which disconnects its other namespaces.
    /// </summary>
    public ValueTask DisconnectAsync(bool close = false)
    {
        if (close)
        {
            return new(Client.DisconnectAllAsync());
        }

        if (!Connected)
        {
            return ValueTask.CompletedTask;
        }

        Client.Send(PacketEncoder.Disconnect(Namespace.Name));
        return new(CloseAsync(DisconnectReason.ServerNamespaceDisconnect));
    }

    /// <inheritdoc />
    public override string ToString() => $"{Namespace.Name}#{Id}";

    internal bool SendAck(long ackId, object?[] args)
    {
        if (!Connected)
        {
            return false;
        }

        return Client.Send(PacketEncoder.Ack(Namespace.Name, ackId, args, Server.JsonOptions));
    }

    private Socket AddAny(Action<SocketEvent> handler, bool prepend)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Func<SocketEvent, Task?> invoke = e =>
        {
            handler(e);
            return null;
        };
        lock (_lock)
        {
            var handlers = _anyHandlers ??= [];
            handlers.Insert(prepend ? 0 : handlers.Count, (handler, invoke));
        }

        return this;
    }

    private Socket AddAnyOutgoing(Action<string, object?[]> handler, bool prepend)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_lock)
        {
            var handlers = _outgoingHandlers ??= [];
            handlers.Insert(prepend ? 0 : handlers.Count, handler);
        }

        return this;
    }

    internal void NotifyOutgoing(string eventName, object?[] args)
    {
        Action<string, object?[]>[] handlers;
        lock (_lock)
        {
            if (_outgoingHandlers is null)
            {
                return;
            }

            handlers = [.. _outgoingHandlers];
        }

        foreach (var handler in handlers)
        {
            try
            {
                handler(eventName, args);
            }
            catch (Exception ex)
            {
                SocketIOLog.HandlerFailed(Server.Logger, eventName, Id, ex);
            }
        }
    }

    internal void RegisterAck(int ackId, IAckReceiver receiver)
    {
        lock (_lock)
        {
            (_pendingAcks ??= [])[ackId] = receiver;
        }

        // A socket that closed meanwhile would never answer; let the receiver know now.
        if (!InRooms)
        {
            CancelAck(ackId);
        }
    }

    internal void CancelAck(int ackId)
    {
        IAckReceiver? receiver;
        lock (_lock)
        {
            receiver = null;
            _pendingAcks?.Remove(ackId, out receiver);
        }

        receiver?.OnClosed(this);
    }

    internal void OnPacket(Packet packet)
    {
        if (!System.Threading.Volatile.Read(ref _started))
        {
            lock (_lock)
            {
                if (!_started)
                {
                    (_early ??= []).Add(packet);
                    if (_early.Count > MaxEarlyPackets)
                    {
                        _early = null;
                        Client.Abort(DisconnectReason.ParseError);
                    }

                    return;
                }
            }
        }

        Dispatch(packet);
    }

    /// <summary>The connection handlers have started (their synchronous part ran): packets go to the handlers from now on.</summary>
    internal void Start()
    {
        List<Packet>? early;
        lock (_lock)
        {
            _started = true;
            early = _early;
            _early = null;
        }

        if (early is not null)
        {
            foreach (var packet in early)
            {
                Dispatch(packet);
            }
        }
    }

    private void Dispatch(Packet packet)
    {
        switch (packet.Type)
        {
            case PacketType.Event or PacketType.BinaryEvent:
                OnEvent(packet);
                break;
            case PacketType.Ack or PacketType.BinaryAck:
                OnAck(packet);
                break;
            case PacketType.Disconnect:
                _ = CloseAsync(DisconnectReason.ClientNamespaceDisconnect);
                break;
        }
    }

    /// <summary>Runs the disconnection sequence once: <c>disconnecting</c>, leave every room, <c>disconnect</c>.</summary>
    internal async Task CloseAsync(string reason)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            return;
        }

        await RunLifecycleHandlersAsync(_disconnectingHandlers, "disconnecting", reason).ConfigureAwait(false);

        System.Threading.Volatile.Write(ref _state, 2);
        _roomsAtClose = CachedRooms();
        Namespace.Remove(this);
        Client.Remove(this);
        FailPendingAcks();
        if (!Namespace.Cluster.IsDetached)
        {
            Task ending;
            lock (_lock)
            {
                _membership = ending = EndSessionAfterAsync(_membership, suspend: Pid is not null && IsRecoverable(reason));
            }

            await ending.ConfigureAwait(false);
        }

        SocketIOLog.SocketDisconnected(Server.Logger, Id, Namespace.Name, reason);
        Server.OnSocketDisconnected(this, reason);
        await RunLifecycleHandlersAsync(_disconnectHandlers, "disconnect", reason).ConfigureAwait(false);
    }

    /// <summary>Restores the session, lost with its silo, from this gateway's table, in its place among the socket's changes.</summary>
    internal Task RestoreSessionAsync()
    {
        lock (_lock)
        {
            if (!InRooms)
            {
                return Task.CompletedTask;
            }

            return _membership = RestoreAfterAsync(_membership);
        }
    }

    /// <summary>The rooms of this socket in this gateway's table (its own room while it is in it): what its session accepted.</summary>
    internal ImmutableArray<string> CachedRooms() => [.. Namespace.Table.GetRooms(Id)];

    /// <summary>Takes the rooms whose state in the grains is uncertain, for the next call to the session to write again.</summary>
    internal ImmutableArray<string> TakeUncertain()
    {
        lock (_lock)
        {
            if (_uncertain is null)
            {
                return [];
            }

            var rooms = _uncertain.ToImmutableArray();
            _uncertain = null;
            return rooms;
        }
    }

    /// <summary>Records rooms whose state in the grains is uncertain after a failed change.</summary>
    internal void AddUncertain(ImmutableArray<string> rooms)
    {
        if (rooms.IsDefaultOrEmpty)
        {
            return;
        }

        lock (_lock)
        {
            (_uncertain ??= new HashSet<string>(StringComparer.Ordinal)).UnionWith(rooms);
        }
    }

    /// <summary>
    /// Applies a join or leave after the changes before it: first the session (the truth), then this gateway's table,
    /// so the table only ever holds what the session accepted. A failure reaches the caller and changes nothing here.
    /// </summary>
    private Task ChangeAfterAsync(Task before, string[] rooms, bool join) =>
        GatewayActivities.Source.HasListeners() || Server.Metrics.MeasuresRoomChanges
            ? ChangeObservedAsync(before, rooms, join)
            : ChangeAfterCoreAsync(before, rooms, join);

    // A change with its span and its duration, for whoever listens.
    private async Task ChangeObservedAsync(Task before, string[] rooms, bool join)
    {
        var metrics = Server.Metrics;
        var start = metrics.MeasuresRoomChanges ? Server.TimeProvider.GetTimestamp() : 0;
        using var activity = GatewayActivities.Source.StartActivity(join ? GatewayActivities.Join : GatewayActivities.Leave);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(GatewayActivities.NamespaceTag, Namespace.Name);
            activity.SetTag(GatewayActivities.SocketIdTag, Id);
            activity.SetTag(GatewayActivities.RoomsTag, rooms);
        }

        try
        {
            await ChangeAfterCoreAsync(before, rooms, join).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            GatewayActivities.Fail(activity, ex);
            if (start != 0)
            {
                metrics.RoomChanged(join, Server.TimeProvider.GetElapsedTime(start), ex.GetType().FullName);
            }

            throw;
        }

        if (start != 0)
        {
            metrics.RoomChanged(join, Server.TimeProvider.GetElapsedTime(start), error: null);
        }
    }

    private async Task ChangeAfterCoreAsync(Task before, string[] rooms, bool join)
    {
        await WaitAsync(before).ConfigureAwait(false);
        if (!InRooms)
        {
            return;
        }

        if (join)
        {
            await Namespace.AuthorizeJoinAsync(this, rooms).ConfigureAwait(false);
        }

        IReadOnlyCollection<string>? roomsBefore = null;
        if (!Namespace.Cluster.IsDetached)
        {
            var sessions = Namespace.Cluster.Sessions;
            await (join ? sessions.JoinAsync(this, rooms) : sessions.LeaveAsync(this, rooms)).ConfigureAwait(false);
            roomsBefore = Namespace.Presence.IsSubscribed ? Namespace.Table.GetRooms(Id) : null;
        }

        if (join)
        {
            Namespace.Table.Join(Id, rooms);
        }
        else
        {
            Namespace.Table.Leave(Id, rooms);
        }

        if (roomsBefore is not null)
        {
            // After the table, so a handler reading socket.Rooms sees the change.
            Namespace.Presence.Changed(Id, rooms, join, roomsBefore);
        }
    }

    private async Task RestoreAfterAsync(Task before)
    {
        await WaitAsync(before).ConfigureAwait(false);
        if (InRooms && !Namespace.Cluster.IsDetached)
        {
            await Namespace.Cluster.Sessions.RestoreAsync(this).ConfigureAwait(false);
        }
    }

    // The socket's last change: its session leaves every room, and (suspend) keeps them for its client
    // (connection state recovery). If the cluster cannot take it now, the gateway keeps ending it in the background: a
    // room must not keep a member that is gone.
    private async Task EndSessionAfterAsync(Task before, bool suspend)
    {
        await WaitAsync(before).ConfigureAwait(false);
        var rooms = _roomsAtClose;
        var uncertain = TakeUncertain();
        if (!uncertain.IsEmpty)
        {
            rooms = rooms.AddRange(uncertain);
        }

        try
        {
            var sessions = Namespace.Cluster.Sessions;
            await (suspend ? sessions.SuspendAsync(this, rooms, DataJson()) : sessions.DisconnectAsync(this, rooms)).ConfigureAwait(false);
            if (!suspend)
            {
                // A suspended session keeps its rooms: nothing left them.
                Namespace.Presence.Changed(Id, _roomsAtClose, joined: false, _roomsAtClose);
            }
        }
        catch (Exception ex)
        {
            Namespace.Cluster.EndLater(this, rooms, ex);
        }
    }

    // Socket.IO's reasons after which a client may recover its socket: the connection dropped or the server went away,
    // not a disconnection anyone asked for.
    private static bool IsRecoverable(string reason) => reason is DisconnectReason.TransportError or DisconnectReason.TransportClose
        or DisconnectReason.ForcedClose or DisconnectReason.PingTimeout or DisconnectReason.ServerShuttingDown or DisconnectReason.ForcedServerClose;

    // A change that failed was reported to its own caller; the next one goes on regardless.
    private static async Task WaitAsync(Task before)
    {
        try
        {
            await before.ConfigureAwait(false);
        }
        catch (Exception)
        {
        }
    }

    private void OnEvent(Packet packet)
    {
        var data = packet.Data!.Value;
        var first = data[0];
        var name = first.ValueKind == JsonValueKind.String ? first.GetString()! : first.GetRawText();
        var e = new SocketEvent(this, name, new SocketArguments(data, 1, packet.Attachments, Server.JsonOptions), packet.Id);
        Server.Metrics.EventReceived();

        List<Func<SocketEvent, Func<Task>, Task>>? middlewares;
        lock (_lock)
        {
            middlewares = _middlewares;
        }

        var activity = GatewayActivities.StartRoot(GatewayActivities.Event, ActivityKind.Server, out var previous);
        var handling = activity is null && !Server.Metrics.MeasuresEvents ? null : new EventHandling(this, activity, Server.TimeProvider.GetTimestamp());
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(GatewayActivities.NamespaceTag, Namespace.Name);
            activity.SetTag(GatewayActivities.SocketIdTag, Id);
            activity.SetTag(GatewayActivities.EventNameTag, name);
        }

        try
        {
            if (middlewares is null)
            {
                var pending = Dispatch(e, handling);
                if (handling is not null)
                {
                    handling.EndAfter(pending);
                }
            }
            else
            {
                _ = RunMiddlewaresAsync(e, [.. middlewares], handling);
            }
        }
        finally
        {
            GatewayActivities.Restore(activity, previous);
        }
    }

    private async Task RunMiddlewaresAsync(SocketEvent e, Func<SocketEvent, Func<Task>, Task>[] middlewares, EventHandling? handling)
    {
        Task? pending = null;
        try
        {
            var index = 0;
            Task Next()
            {
                if (index == middlewares.Length)
                {
                    pending = Dispatch(e, handling);
                    return Task.CompletedTask;
                }

                return middlewares[index++](e, Next);
            }

            await Next().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            handling?.Failed(ex);
            RaiseError(ex);
        }

        handling?.EndAfter(pending);
    }

    private void RaiseError(Exception ex)
    {
        Action<Exception>[]? handlers;
        lock (_lock)
        {
            handlers = _errorHandlers?.ToArray();
        }

        if (handlers is null)
        {
            SocketIOLog.MiddlewareFailed(Server.Logger, Id, ex);
            return;
        }

        foreach (var handler in handlers)
        {
            try
            {
                handler(ex);
            }
            catch (Exception inner)
            {
                SocketIOLog.HandlerFailed(Server.Logger, "error", Id, inner);
            }
        }
    }

    // Runs the handlers; with handling (traced or measured), returns what they still do asynchronously, if anything.
    private Task? Dispatch(SocketEvent e, EventHandling? handling)
    {
        Func<SocketEvent, Task?>[]? any;
        Func<SocketEvent, Task?>[]? handlers;
        lock (_lock)
        {
            any = _anyHandlers?.ConvertAll(h => h.Handler).ToArray();
            handlers = _handlers is not null && _handlers.TryGetValue(e.Name, out var list) ? list : null;
        }

        Task? pending = null;
        List<Task>? more = null;
        foreach (var list in (ReadOnlySpan<Func<SocketEvent, Task?>[]?>)[any, handlers])
        {
            if (list is null)
            {
                continue;
            }

            foreach (var handler in list)
            {
                if (Invoke(handler, e, handling) is { } task && handling is not null)
                {
                    if (pending is null)
                    {
                        pending = task;
                    }
                    else
                    {
                        (more ??= [pending]).Add(task);
                    }
                }
            }
        }

        return more is null ? pending : Task.WhenAll(more);
    }

    // Handlers run in arrival order; an asynchronous one is not awaited before the next event, as in Socket.IO.
    private Task? Invoke(Func<SocketEvent, Task?> handler, SocketEvent e, EventHandling? handling)
    {
        try
        {
            var task = handler(e);
            if (task is { IsCompleted: false })
            {
                return ObserveAsync(task, e.Name, handling);
            }
            else if (task is { IsFaulted: true })
            {
                handling?.Failed(task.Exception!.GetBaseException());
                SocketIOLog.HandlerFailed(Server.Logger, e.Name, Id, task.Exception!.GetBaseException());
            }
        }
        catch (Exception ex)
        {
            handling?.Failed(ex);
            SocketIOLog.HandlerFailed(Server.Logger, e.Name, Id, ex);
        }

        return null;
    }

    private async Task ObserveAsync(Task task, string eventName, EventHandling? handling)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            handling?.Failed(ex);
            SocketIOLog.HandlerFailed(Server.Logger, eventName, Id, ex);
        }
    }

    /// <summary>
    /// One event being handled while something listens (its span, its duration): ends once the middleware and every
    /// handler, asynchronous ones included, are done.
    /// </summary>
    private sealed class EventHandling(Socket socket, Activity? activity, long start)
    {
        public void Failed(Exception exception) => GatewayActivities.Fail(activity, exception);

        public void EndAfter(Task? pending)
        {
            if (pending is null)
            {
                End();
            }
            else
            {
                _ = EndAsync(pending);
            }
        }

        private async Task EndAsync(Task pending)
        {
            // The handlers' failures were logged where they were observed.
            await pending.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            End();
        }

        private void End()
        {
            activity?.Stop();
            if (socket.Server.Metrics.MeasuresEvents)
            {
                socket.Server.Metrics.EventHandled(socket.Server.TimeProvider.GetElapsedTime(start));
            }
        }
    }

    private void OnAck(Packet packet)
    {
        // The server's ack ids are ints; an ACK with any other id answers nothing that is pending.
        if (packet.Id is not { } id || id > int.MaxValue)
        {
            return;
        }

        IAckReceiver? receiver;
        lock (_lock)
        {
            receiver = null;
            _pendingAcks?.Remove((int)id, out receiver);
        }

        receiver?.OnAck(this, new SocketArguments(packet.Data ?? default, 0, packet.Attachments, Server.JsonOptions));
    }

    private void FailPendingAcks()
    {
        IAckReceiver[] receivers;
        lock (_lock)
        {
            if (_pendingAcks is null || _pendingAcks.Count == 0)
            {
                return;
            }

            receivers = [.. _pendingAcks.Values];
            _pendingAcks.Clear();
        }

        foreach (var receiver in receivers)
        {
            receiver.OnClosed(this);
        }
    }

    private async Task RunLifecycleHandlersAsync(List<Func<string, Task?>>? list, string eventName, string reason)
    {
        Func<string, Task?>[] handlers;
        lock (_lock)
        {
            if (list is null)
            {
                return;
            }

            handlers = [.. list];
        }

        foreach (var handler in handlers)
        {
            try
            {
                var task = handler(reason);
                if (task is not null)
                {
                    await task.ConfigureAwait(false);
                }
            }
            catch (Exception ex)
            {
                SocketIOLog.HandlerFailed(Server.Logger, eventName, Id, ex);
            }
        }
    }
}
