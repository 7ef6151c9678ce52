using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;
using OrleansRooms.Cluster;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Grains.Silos;
using OrleansRooms.Hosting;
using OrleansRooms.Protocol;
using OrleansRooms.Recovery;
using OrleansRooms.Rooms;

namespace OrleansRooms;

/// <summary>
/// A communication channel multiplexed over the clients' connections (Socket.IO's <c>Namespace</c>), such as
/// <c>/</c> (the main namespace) or <c>/chat</c>. Every namespace has its own sockets, rooms, handlers and middleware.
/// A namespace made by <c>Of(Regex)</c> or <c>Of(predicate)</c> is a dynamic parent: its handlers and middleware apply
/// to each child namespace it matches, and its broadcasts reach every child.
/// </summary>
public sealed class Namespace
{
    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<string, Socket> _sockets = new(StringComparer.Ordinal);
    private readonly List<Func<Socket, Task?>> _connectionHandlers = [];
    private readonly List<Func<Socket, Func<Task>, Task>> _middlewares = [];
    private readonly Dictionary<string, List<Action<ServerSideEvent>>> _serverSideHandlers = new(StringComparer.Ordinal);
    private readonly NamespaceAuthorization _authorization = new();
    private readonly Namespace? _parent;
    private Func<Socket, string, ValueTask<bool>>[] _joinGuards = [];
    private Func<Handshake, ValueTask<ClaimsPrincipal?>>? _authenticate;
    private int _ackIds;

    // A child removed when empty (CleanupEmptyChildNamespaces) counts the connections under way, which may still add a
    // socket; once removed, a connection that resolved it goes to the child its parent makes next.
    private int _connecting;
    private bool _removed;

    internal Namespace(SocketIOServer server, string name, Namespace? parent, bool isDynamicParent)
    {
        Server = server;
        Name = name;
        _parent = parent;
        Table = new RoomTable<Socket>();
        Cluster = new NamespaceCluster(this, server.Cluster);
        Presence = new RoomPresence(this);
        Adapter = new Adapter(Table, Cluster, Presence);
        Broadcaster = new Broadcaster(this);
        Receiver = new ClusterReceiver(this);
        RecoveryLog = server.Cluster.Recovery.Enabled ? server.Cluster.Recovery.For(name) : null;
        Sockets = new LiveReadOnlyDictionary<string, Socket>(_sockets);
        if (isDynamicParent)
        {
            Children = new ConcurrentDictionary<string, Namespace>(StringComparer.Ordinal);
        }
    }

    /// <summary>The namespace name, starting with <c>/</c>.</summary>
    public string Name { get; }

    /// <summary>The server.</summary>
    public SocketIOServer Server { get; }

    /// <summary>The room bookkeeping of this namespace on this node.</summary>
    public Adapter Adapter { get; }

    /// <summary>Who joins and leaves this namespace's rooms on every gateway of the cluster; off until subscribed.</summary>
    public RoomPresence Presence { get; }

    /// <summary>The sockets connected to this namespace on this node, by id.</summary>
    public IReadOnlyDictionary<string, Socket> Sockets { get; }

    /// <summary>Targets the sockets of this node only.</summary>
    public BroadcastOperator Local => ToOperator().Local;

    /// <summary>Emits without guarantee: a socket whose connection cannot take the packet right now misses it.</summary>
    public BroadcastOperator Volatile => ToOperator().Volatile;

    internal RoomTable<Socket> Table { get; }

    internal NamespaceCluster Cluster { get; }

    internal Broadcaster Broadcaster { get; }

    internal ClusterReceiver Receiver { get; }

    /// <summary>This silo's log of the namespace's sequenced broadcasts when connection state recovery is on; null when off.</summary>
    internal Grains.Recovery.NamespaceLog? RecoveryLog { get; }

    /// <summary>The child namespaces of a dynamic parent; null for an ordinary namespace.</summary>
    internal ConcurrentDictionary<string, Namespace>? Children { get; }

    /// <summary>Runs for each socket that connects, after the middleware let it in.</summary>
    public Namespace OnConnection(Action<Socket> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return OnConnection(socket =>
        {
            handler(socket);
            return null;
        });
    }

    /// <inheritdoc cref="OnConnection(Action{Socket})"/>
    public Namespace OnConnection(Func<Socket, Task?> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_lock)
        {
            _connectionHandlers.Add(handler);
        }

        return this;
    }

    /// <summary>
    /// Adds connection middleware, run in order for every socket before it connects. Call <c>next</c> to go on;
    /// throw <see cref="ConnectionRejectedException"/> to refuse: the client gets a CONNECT_ERROR with its message and data.
    /// </summary>
    public Namespace Use(Func<Socket, Func<Task>, Task> middleware)
    {
        ArgumentNullException.ThrowIfNull(middleware);
        lock (_lock)
        {
            _middlewares.Add(middleware);
        }

        return this;
    }

    /// <summary>
    /// Sets how this namespace authenticates a connecting socket from its handshake, typically a token in its
    /// <c>auth</c> payload (which no HTTP request carries). It runs before <see cref="RequireAuthorization(string[])"/>
    /// and the middleware; the principal it returns becomes <see cref="Handshake.User"/>, and null leaves the user of the
    /// HTTP request. An exception refuses the socket with a generic CONNECT_ERROR. A second call replaces the first; a
    /// dynamic parent's applies to each child that sets none.
    /// </summary>
    public Namespace Authenticate(Func<Handshake, ValueTask<ClaimsPrincipal?>> authenticate)
    {
        ArgumentNullException.ThrowIfNull(authenticate);
        System.Threading.Volatile.Write(ref _authenticate, authenticate);
        return this;
    }

    /// <summary>
    /// Requires the socket's user (<see cref="Handshake.User"/>, from the handshake request's ASP.NET Core
    /// authentication) to satisfy the authorization policies named (the default policy when none is named), checked
    /// with <see cref="IAuthorizationService"/> before the middleware. A refused client gets a CONNECT_ERROR:
    /// <c>Unauthorized</c> (<c>data.status</c> 401) when it is not authenticated, <c>Forbidden</c> (403) otherwise.
    /// Each call adds requirements; a dynamic parent's apply to each child it matches.
    /// </summary>
    /// <exception cref="InvalidOperationException">The authorization services are not registered (<c>AddAuthorization</c>).</exception>
    public Namespace RequireAuthorization(params string[] policyNames)
    {
        ArgumentNullException.ThrowIfNull(policyNames);
        ThrowIfNoAuthorization();
        if (policyNames.Length == 0)
        {
            _authorization.Add(new AuthorizeAttribute());
        }

        foreach (var name in policyNames)
        {
            ArgumentException.ThrowIfNullOrEmpty(name, nameof(policyNames));
            _authorization.Add(new AuthorizeAttribute(name));
        }

        return this;
    }

    /// <summary>Requires the socket's user to satisfy <paramref name="policy"/> (see <see cref="RequireAuthorization(string[])"/>).</summary>
    /// <exception cref="InvalidOperationException">The authorization services are not registered (<c>AddAuthorization</c>).</exception>
    public Namespace RequireAuthorization(AuthorizationPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ThrowIfNoAuthorization();
        _authorization.Add(policy);
        return this;
    }

    /// <summary>
    /// Adds a guard asked whether a socket may join a room it is not in yet, by <see cref="Socket.JoinAsync(string)"/>
    /// or by <c>SocketsJoinAsync</c> from any gateway. When a guard answers false, <c>JoinAsync</c> throws
    /// <see cref="RoomJoinDeniedException"/> and the socket joins none of the rooms asked for; <c>SocketsJoinAsync</c>
    /// leaves that socket out and goes on with the others. Every guard must allow; a dynamic parent's guards apply to
    /// its children. A guard runs in the socket's queue of room changes, so it must not join or leave rooms itself.
    /// </summary>
    public Namespace AuthorizeJoin(Func<Socket, string, ValueTask<bool>> guard)
    {
        ArgumentNullException.ThrowIfNull(guard);
        lock (_lock)
        {
            _joinGuards = [.. _joinGuards, guard];
        }

        return this;
    }

    /// <inheritdoc cref="AuthorizeJoin(Func{Socket, string, ValueTask{bool}})"/>
    public Namespace AuthorizeJoin(Func<Socket, string, bool> guard)
    {
        ArgumentNullException.ThrowIfNull(guard);
        return AuthorizeJoin((socket, room) => ValueTask.FromResult(guard(socket, room)));
    }

    /// <summary>Targets the sockets in <paramref name="room"/>. Chain to add rooms (union).</summary>
    public BroadcastOperator To(string room) => ToOperator().To(room);

    /// <summary>Targets the sockets in any of <paramref name="rooms"/>.</summary>
    public BroadcastOperator To(IEnumerable<string> rooms) => ToOperator().To(rooms);

    /// <summary>Same as <see cref="To(string)"/>.</summary>
    public BroadcastOperator In(string room) => To(room);

    /// <summary>Same as <see cref="To(IEnumerable{string})"/>.</summary>
    public BroadcastOperator In(IEnumerable<string> rooms) => To(rooms);

    /// <summary>Targets every socket except those in <paramref name="room"/>.</summary>
    public BroadcastOperator Except(string room) => ToOperator().Except(room);

    /// <summary>Targets every socket except those in any of <paramref name="rooms"/>.</summary>
    public BroadcastOperator Except(IEnumerable<string> rooms) => ToOperator().Except(rooms);

    /// <summary>Whether the event may be compressed (default true); see <see cref="BroadcastOperator.Compress"/>.</summary>
    public BroadcastOperator Compress(bool compress) => ToOperator().Compress(compress);

    /// <summary>Sets how long <c>EmitWithAckAsync</c> waits for the acknowledgements.</summary>
    public BroadcastOperator Timeout(TimeSpan timeout) => ToOperator().Timeout(timeout);

    /// <summary>Sends event <paramref name="eventName"/> to every socket of the namespace.</summary>
    public ValueTask EmitAsync(string eventName, params object?[] args) => ToOperator().EmitAsync(eventName, args);

    /// <summary>Sends event <paramref name="eventName"/> to every socket and returns their acknowledgements.</summary>
    public ValueTask<IReadOnlyList<SocketArguments>> EmitWithAckAsync(string eventName, params object?[] args) =>
        ToOperator().EmitWithAckAsync(eventName, args);

    /// <summary>Returns every socket of the namespace.</summary>
    public ValueTask<IReadOnlyList<RemoteSocket>> FetchSocketsAsync() => ToOperator().FetchSocketsAsync();

    /// <summary>Makes every socket join <paramref name="room"/>.</summary>
    public ValueTask SocketsJoinAsync(string room) => ToOperator().SocketsJoinAsync(room);

    /// <summary>Makes every socket leave <paramref name="room"/>.</summary>
    public ValueTask SocketsLeaveAsync(string room) => ToOperator().SocketsLeaveAsync(room);

    /// <summary>Disconnects every socket; with <paramref name="close"/>, closes their connections too.</summary>
    public ValueTask DisconnectSocketsAsync(bool close = false) => ToOperator().DisconnectSocketsAsync(close);

    /// <summary>
    /// Sends an event to the other Socket.IO servers of the cluster, not to clients; they receive it through
    /// <see cref="OnServerSideEmit"/>. On a single node there is no other server, so nothing is sent.
    /// </summary>
    public async ValueTask ServerSideEmitAsync(string eventName, params object?[] args)
    {
        EventNames.ThrowIfReserved(eventName);
        ArgumentNullException.ThrowIfNull(args);
        var message = ServerSideMessage(eventName, args);
        var sends = new List<Task>();
        foreach (var gateway in Cluster.OtherGateways())
        {
            sends.Add(SendServerSideAsync(gateway, message));
        }

        await Task.WhenAll(sends).ConfigureAwait(false);
    }

    /// <summary>
    /// Like <see cref="ServerSideEmitAsync"/>, and returns each other server's acknowledgement (its arguments); none on
    /// a single node. Fails with <see cref="BroadcastAckTimeoutException"/>, carrying the answers received, when a
    /// server does not answer within <see cref="SocketIOOptions.ClusterRequestTimeout"/>.
    /// </summary>
    public async ValueTask<IReadOnlyList<SocketArguments>> ServerSideEmitWithAckAsync(string eventName, params object?[] args)
    {
        EventNames.ThrowIfReserved(eventName);
        ArgumentNullException.ThrowIfNull(args);
        var message = ServerSideMessage(eventName, args);
        var timeout = Server.Options.ClusterRequestTimeout;
        var answers = new List<(SiloAddress Gateway, Task<ServerAck> Answer)>();
        foreach (var gateway in Cluster.OtherGateways())
        {
            answers.Add((gateway, Cluster.Gateway(gateway).ServerSideEmitAsync(message, timeout)));
        }

        var responses = new List<SocketArguments>(answers.Count);
        var missing = 0;
        foreach (var (gateway, answer) in answers)
        {
            try
            {
                if ((await answer.ConfigureAwait(false)).Ack is { } ack)
                {
                    responses.Add(SocketArguments.FromCluster(ack, Server.JsonOptions));
                    continue;
                }
            }
            catch (Exception ex)
            {
                if (!Cluster.IsKnownGateway(gateway) && ClusterRetry.IsTransient(ex))
                {
                    // A silo this gateway did not know yet, which refused: no gateway, no server to answer.
                    continue;
                }

                SocketIOLog.ServerSideEmitFailed(Server.Logger, Name, ex);
            }

            missing++;
        }

        return missing == 0 ? responses : throw new BroadcastAckTimeoutException(responses);
    }

    /// <summary>Runs when another server of the cluster (or an emitter) sends <paramref name="eventName"/> with <c>ServerSideEmitAsync</c>.</summary>
    public Namespace OnServerSideEmit(string eventName, Action<ServerSideEvent> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        ArgumentNullException.ThrowIfNull(handler);
        lock (_lock)
        {
            if (!_serverSideHandlers.TryGetValue(eventName, out var list))
            {
                _serverSideHandlers[eventName] = list = [];
            }

            list.Add(handler);
        }

        return this;
    }

    /// <inheritdoc />
    public override string ToString() => Name;

    internal BroadcastOperator ToOperator() => new(this, [], [], default);

    /// <summary>
    /// Raises a server-side event sent by another server; with <paramref name="ackTimeout"/>, completes with the first
    /// acknowledgement a handler gives, or none when no handler gives one within it.
    /// </summary>
    internal async Task<ServerAck> RaiseServerSideEventAsync(ClusterMessage message, TimeSpan? ackTimeout)
    {
        // Data is the event's array: its name, then its arguments.
        var all = SocketArguments.FromCluster(message, Server.JsonOptions);
        if (all.Count == 0)
        {
            return new ServerAck(null);
        }

        var first = all[0];
        var name = first.ValueKind == JsonValueKind.String ? first.GetString()! : first.GetRawText();
        Action<ServerSideEvent>[] handlers;
        lock (_lock)
        {
            if (!_serverSideHandlers.TryGetValue(name, out var list))
            {
                return new ServerAck(null);
            }

            handlers = [.. list];
        }

        TaskCompletionSource<AckData>? acked = null;
        Func<object?[], bool>? ack = null;
        if (ackTimeout is not null)
        {
            acked = new TaskCompletionSource<AckData>(TaskCreationOptions.RunContinuationsAsynchronously);
            ack = args =>
            {
                var packet = PacketEncoder.Ack(Name, 0, args, Server.JsonOptions);
                return acked.TrySetResult(new AckData(PacketEncoder.DataOf(packet), packet.AttachmentPayloads()));
            };
        }

        var e = new ServerSideEvent(name, all.Skip(1), ack);
        foreach (var handler in handlers)
        {
            try
            {
                handler(e);
            }
            catch (Exception ex)
            {
                SocketIOLog.HandlerFailed(Server.Logger, name, "server-side", ex);
            }
        }

        if (acked is null)
        {
            return new ServerAck(null);
        }

        try
        {
            return new ServerAck(await acked.Task.WaitAsync(ackTimeout!.Value, Server.TimeProvider).ConfigureAwait(false));
        }
        catch (TimeoutException)
        {
            return new ServerAck(null);
        }
    }

    internal int NextAckId() => Interlocked.Increment(ref _ackIds) & int.MaxValue;

    internal Namespace GetOrAddChild(string name)
    {
        if (Children!.TryGetValue(name, out var child))
        {
            return child;
        }

        lock (_lock)
        {
            if (Children.TryGetValue(name, out child))
            {
                return child;
            }

            child = Children[name] = new Namespace(Server, name, this, isDynamicParent: false);
        }

        Server.OnNamespaceCreated(child);
        return child;
    }

    /// <summary>
    /// Runs a client's CONNECT: middleware, own room, CONNECT packet, then starts the connection handlers. Completes
    /// once the CONNECT packet is sent, so the client's next CONNECT does not wait for this one's handlers.
    /// </summary>
    internal async Task ConnectAsync(Client client, JsonElement? auth)
    {
        if (!RemovedWhenEmpty)
        {
            await ConnectOnceAsync(client, auth).ConfigureAwait(false);
            return;
        }

        bool removed;
        lock (_lock)
        {
            removed = _removed;
            if (!removed)
            {
                _connecting++;
            }
        }

        if (removed)
        {
            await _parent!.GetOrAddChild(Name).ConnectAsync(client, auth).ConfigureAwait(false);
            return;
        }

        try
        {
            await ConnectOnceAsync(client, auth).ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                _connecting--;
            }

            RemoveIfEmpty();
        }
    }

    private async Task ConnectOnceAsync(Client client, JsonElement? auth)
    {
        // Connection state recovery is Socket.IO protocol v5: a socket.io-client 2.x neither gets nor sends a pid.
        var recoveryLog = client.IsLegacy ? null : RecoveryLog;
        if (recoveryLog is { } log && !Cluster.IsDetached && RecoveryRequest.TryRead(auth, out var request))
        {
            if (await new SocketRecovery(this, log, client, auth, request).RunAsync().ConfigureAwait(false))
            {
                return;
            }

            Server.Metrics.RecoveryRefused();
        }

        var socket = new Socket(this, client, Grains.Naming.SocketIds.New(), new Handshake(client.Connection.Request, auth));
        if (!await AuthorizeOrRejectAsync(socket, client).ConfigureAwait(false)
            || !await RunMiddlewaresOrRejectAsync(socket, client).ConfigureAwait(false)
            || !client.Accept(socket))
        {
            return;
        }

        // The session first: the cluster knows the socket before its client does, and before any broadcast reaches it.
        var secret = recoveryLog is null ? default : Grains.Recovery.SessionToken.NewSecret();
        if (!Cluster.IsDetached)
        {
            try
            {
                await (recoveryLog is null ? Cluster.Sessions.ConnectAsync(socket) : Cluster.Sessions.ConnectAsync(socket, secret)).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                SocketIOLog.SessionNotStarted(Server.Logger, socket.Id, ex);
                Server.Metrics.ClusterFailure();
                client.Remove(socket);
                client.RejectConnect(Name, "Service unavailable", null);
                return;
            }
        }

        if (recoveryLog is { } recovery)
        {
            // Where delivery to the socket starts: the offset of its client until it receives a packet.
            Grains.Recovery.RecoveryVector start;
            lock (recovery.Lock)
            {
                _sockets[socket.Id] = socket;
                Table.Add(socket);
                start = recovery.VectorLocked;
            }

            socket.Pid = new Grains.Recovery.SessionToken(socket.Id, secret, start).ToString();
        }
        else
        {
            _sockets[socket.Id] = socket;
            Table.Add(socket);
        }

        client.Send(client.IsLegacy ? PacketEncoder.LegacyConnect(Name) : PacketEncoder.Connect(Name, socket.Id, socket.Pid));
        Connected(socket);
    }

    /// <summary>A socket is connected and its client knows it: the connection handlers start, then its packets flow.</summary>
    internal void Connected(Socket socket)
    {
        GatewayActivities.CurrentOf(GatewayActivities.Connect)?.SetTag(GatewayActivities.SocketIdTag, socket.Id);
        Server.Metrics.SocketConnected();
        SocketIOLog.SocketConnected(Server.Logger, socket.Id, Name);
        Server.OnSocketConnected(socket);
        _ = RunConnectionHandlersAsync(socket);
        socket.Start();
    }

    /// <summary>
    /// Authenticates the socket (<see cref="Authenticate"/>) and checks the namespace's authorization requirements
    /// (<see cref="RequireAuthorization(string[])"/>); false, the client refused with CONNECT_ERROR, when the user does
    /// not satisfy them or they could not be evaluated.
    /// </summary>
    internal async Task<bool> AuthorizeOrRejectAsync(Socket socket, Client client)
    {
        var authenticate = System.Threading.Volatile.Read(ref _authenticate) ?? (_parent is null ? null : System.Threading.Volatile.Read(ref _parent._authenticate));
        var requiresAuthorization = !_authorization.IsEmpty || _parent is { _authorization.IsEmpty: false };
        if (authenticate is null && !requiresAuthorization)
        {
            return true;
        }

        string message;
        object? data;
        try
        {
            if (authenticate is not null && await authenticate(socket.Handshake).ConfigureAwait(false) is { } user)
            {
                socket.Handshake.Authenticated(user);
            }

            if (!requiresAuthorization)
            {
                return true;
            }

            var refusal = await NamespaceAuthorization.EvaluateAsync(socket, Server.Services, _parent?._authorization, _authorization).ConfigureAwait(false);
            if (refusal is not { } status)
            {
                return true;
            }

            var forbidden = status == NamespaceAuthorization.Forbidden;
            AuthorizationLog.NamespaceRefused(Server.Logger, socket.Id, Name, forbidden ? "forbidden" : "not authenticated");
            (message, data) = (forbidden ? "Forbidden" : "Unauthorized", new { status });
        }
        catch (Exception ex)
        {
            AuthorizationLog.NamespaceAuthorizationFailed(Server.Logger, Name, socket.Id, ex);
            (message, data) = ("Internal server error", null);
        }

        Server.Metrics.ConnectRejected();
        client.RejectConnect(Name, message, data);
        return false;
    }

    /// <summary>
    /// Asks the join guards (<see cref="AuthorizeJoin(Func{Socket, string, ValueTask{bool}})"/>) about each room the
    /// socket is not in yet; throws <see cref="RoomJoinDeniedException"/> at the first refused.
    /// </summary>
    internal async ValueTask AuthorizeJoinAsync(Socket socket, string[] rooms)
    {
        var own = System.Threading.Volatile.Read(ref _joinGuards);
        var inherited = _parent is null ? [] : System.Threading.Volatile.Read(ref _parent._joinGuards);
        if (own.Length == 0 && inherited.Length == 0)
        {
            return;
        }

        foreach (var room in rooms)
        {
            if (Table.IsInAll(socket.Id, [room]))
            {
                continue;
            }

            foreach (var guard in inherited.Concat(own))
            {
                if (!await guard(socket, room).ConfigureAwait(false))
                {
                    AuthorizationLog.RoomJoinDenied(Server.Logger, socket.Id, Name, room);
                    throw new RoomJoinDeniedException(socket.Id, room);
                }
            }
        }
    }

    /// <summary>Runs the middleware; false, the client refused with CONNECT_ERROR, when one rejected the socket or failed.</summary>
    internal async Task<bool> RunMiddlewaresOrRejectAsync(Socket socket, Client client)
    {
        try
        {
            await RunMiddlewaresAsync(socket).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex)
        {
            var (message, data) = ex is ConnectionRejectedException rejected ? (rejected.Message, rejected.Details) : ("Internal server error", null);
            if (ex is not ConnectionRejectedException)
            {
                SocketIOLog.MiddlewareFailed(Server.Logger, socket.Id, ex);
            }

            Server.Metrics.ConnectRejected();
            client.RejectConnect(Name, message, data);
            return false;
        }
    }

    /// <summary>Adds a recovered socket to this gateway's sockets, in <paramref name="rooms"/>.</summary>
    internal void AddRecovered(Socket socket, IReadOnlyCollection<string> rooms)
    {
        _sockets[socket.Id] = socket;
        Table.Add(socket);
        if (!rooms.Contains(socket.Id))
        {
            Table.Leave(socket.Id, [socket.Id]);
        }

        var others = rooms.Where(room => room != socket.Id).ToArray();
        if (others.Length > 0)
        {
            Table.Join(socket.Id, others);
        }
    }

    /// <summary>Takes back a socket added by <see cref="AddRecovered"/> that could not be recovered after all.</summary>
    internal void RemoveUnrecovered(Socket socket)
    {
        Table.Remove(socket.Id);
        _sockets.TryRemove(socket.Id, out _);
    }

    internal void Remove(Socket socket)
    {
        Table.Remove(socket.Id);
        if (_sockets.TryRemove(socket.Id, out _))
        {
            Server.Metrics.SocketDisconnected();
        }

        RemoveIfEmpty();
    }

    private bool RemovedWhenEmpty => _parent is not null && Server.Options.CleanupEmptyChildNamespaces;

    /// <summary>A child of a dynamic parent, with CleanupEmptyChildNamespaces: leaves its parent once no socket is connected or connecting.</summary>
    private void RemoveIfEmpty()
    {
        if (!RemovedWhenEmpty)
        {
            return;
        }

        lock (_lock)
        {
            if (_removed || _connecting > 0 || !_sockets.IsEmpty)
            {
                return;
            }

            _removed = true;
            _parent!.Children!.TryRemove(new KeyValuePair<string, Namespace>(Name, this));
        }

        SocketIOLog.ChildNamespaceRemoved(Server.Logger, Name);
    }


    private void ThrowIfNoAuthorization()
    {
        if (Server.Services.GetService<IAuthorizationPolicyProvider>() is null)
        {
            throw new InvalidOperationException("RequireAuthorization needs the ASP.NET Core authorization services: call builder.Services.AddAuthorization().");
        }
    }

    private async Task SendServerSideAsync(SiloAddress gateway, ClusterMessage message)
    {
        try
        {
            await Cluster.Gateway(gateway).ServerSideEmitAsync(message, null).ConfigureAwait(false);
        }
        catch (Exception ex) when (Cluster.IsKnownGateway(gateway) || !ClusterRetry.IsTransient(ex))
        {
            SocketIOLog.ServerSideEmitFailed(Server.Logger, Name, ex);
        }
        catch (Exception ex) when (ClusterRetry.IsTransient(ex))
        {
            // A silo this gateway did not know yet, which refused: it is no gateway.
        }
    }

    private ClusterMessage ServerSideMessage(string eventName, object?[] args)
    {
        var packet = PacketEncoder.Event(Name, eventName, args, null, Server.JsonOptions);
        return new ClusterMessage
        {
            Type = ClusterMessageType.ServerSideEmit,
            Namespace = Name,
            Data = PacketEncoder.DataOf(packet),
            Attachments = packet.AttachmentPayloads(),
        };
    }

    private async Task RunMiddlewaresAsync(Socket socket)
    {
        var middlewares = new List<Func<Socket, Func<Task>, Task>>();
        _parent?.CopyMiddlewares(middlewares);
        CopyMiddlewares(middlewares);
        if (middlewares.Count == 0)
        {
            return;
        }

        var index = 0;
        var reachedEnd = false;
        Task Next()
        {
            if (index == middlewares.Count)
            {
                reachedEnd = true;
                return Task.CompletedTask;
            }

            return middlewares[index++](socket, Next);
        }

        await Next().ConfigureAwait(false);
        if (!reachedEnd)
        {
            throw new ConnectionRejectedException("Connection rejected by middleware.");
        }
    }

    private void CopyMiddlewares(List<Func<Socket, Func<Task>, Task>> into)
    {
        lock (_lock)
        {
            into.AddRange(_middlewares);
        }
    }

    private async Task RunConnectionHandlersAsync(Socket socket)
    {
        var handlers = new List<Func<Socket, Task?>>();
        if (_parent is not null)
        {
            lock (_parent._lock)
            {
                handlers.AddRange(_parent._connectionHandlers);
            }
        }

        lock (_lock)
        {
            handlers.AddRange(_connectionHandlers);
        }

        foreach (var handler in handlers)
        {
            try
            {
                var task = handler(socket);
                if (task is not null)
                {
                    await task.ConfigureAwait(false);
                }
            }
            catch (Exception ex)
            {
                SocketIOLog.HandlerFailed(Server.Logger, "connection", socket.Id, ex);
            }
        }

        if (socket.Pid is not null && socket.HasData && socket.Connected && !Cluster.IsDetached)
        {
            // What the handlers put in the socket's data comes back with it even if this gateway dies.
            try
            {
                await Cluster.Sessions.SaveDataAsync(socket).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                SocketIOLog.DataNotSaved(Server.Logger, socket.Id, ex);
            }
        }
    }
}
