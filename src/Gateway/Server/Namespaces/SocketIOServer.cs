using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansRooms.Engine;
using OrleansRooms.Cluster;
using OrleansRooms.Hosting;

namespace OrleansRooms;

/// <summary>
/// The Socket.IO server (<c>io</c> in the Socket.IO docs). Resolve it from dependency injection after
/// <c>AddSocketIO</c>; its methods without a namespace act on the main namespace <c>/</c>.
/// </summary>
public sealed class SocketIOServer
{
    private readonly ConcurrentDictionary<string, Namespace> _namespaces = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Client> _clients = new(StringComparer.Ordinal);
    private readonly List<(Func<string, JsonElement?, ValueTask<bool>> Matches, Namespace Parent)> _dynamicParents = [];
    private readonly Lock _lock = new();
    private TaskCompletionSource? _clientsClosed;

    internal SocketIOServer(
        IOptions<SocketIOOptions> options,
        GatewayCluster cluster,
        ILoggerFactory loggerFactory,
        TimeProvider timeProvider,
        GatewayMetrics metrics,
        IServiceProvider services)
    {
        Options = options.Value;
        Cluster = cluster;
        Logger = loggerFactory.CreateLogger("OrleansRooms.SocketIO");
        TimeProvider = timeProvider;
        Metrics = metrics;
        Services = services;
        JsonOptions = Options.JsonSerializerOptions;
        EngineHandler = new Handler(this);
        Sockets = Of("/");
    }

    /// <summary>The main namespace <c>/</c> (Socket.IO's <c>io.sockets</c>).</summary>
    public Namespace Sockets { get; }

    /// <summary>The events of the Engine.IO server beneath (Socket.IO's <c>io.engine</c>): refused requests, response headers.</summary>
    public EngineEvents Engine { get; } = new();

    /// <summary>Targets the sockets of the main namespace on this node only.</summary>
    public BroadcastOperator Local => Sockets.Local;

    /// <summary>Emits to the main namespace without guarantee of delivery.</summary>
    public BroadcastOperator Volatile => Sockets.Volatile;

    internal SocketIOOptions Options { get; }

    internal GatewayCluster Cluster { get; }

    internal ILogger Logger { get; }

    internal TimeProvider TimeProvider { get; }

    internal GatewayMetrics Metrics { get; }

    /// <summary>The application's services, for what a namespace resolves per connection (its authorization).</summary>
    internal IServiceProvider Services { get; }

    internal JsonSerializerOptions JsonOptions { get; }

    internal IEngineHandler EngineHandler { get; }

    /// <summary>Raised when a namespace is created on this gateway (a dynamic parent's child included).</summary>
    internal event Action<Namespace>? NamespaceCreated;

    /// <summary>Raised when a socket has connected to a namespace of this gateway, before its connection handlers run.</summary>
    internal event Action<Socket>? SocketConnected;

    /// <summary>Raised when a socket of this gateway has disconnected and left its rooms: (socket, reason).</summary>
    internal event Action<Socket, string>? SocketDisconnected;

    /// <summary>Every namespace of this gateway, dynamic parents' children included (a copy).</summary>
    internal List<Namespace> SnapshotNamespaces()
    {
        var namespaces = new List<Namespace>(_namespaces.Values);
        lock (_lock)
        {
            foreach (var (_, parent) in _dynamicParents)
            {
                namespaces.AddRange(parent.Children!.Values);
            }
        }

        return namespaces;
    }

    /// <summary>The sockets of Engine.IO session <paramref name="connectionId"/> on this gateway.</summary>
    internal Socket[] SocketsOfConnection(string connectionId) =>
        _clients.TryGetValue(connectionId, out var client) ? client.SnapshotSockets() : [];

    internal void OnNamespaceCreated(Namespace nsp) => NamespaceCreated?.Invoke(nsp);

    internal void OnSocketConnected(Socket socket) => SocketConnected?.Invoke(socket);

    internal void OnSocketDisconnected(Socket socket, string reason) => SocketDisconnected?.Invoke(socket, reason);

    /// <summary>Returns namespace <paramref name="name"/>, creating it if needed (a missing leading <c>/</c> is added).</summary>
    public Namespace Of(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!name.StartsWith('/'))
        {
            name = "/" + name;
        }

        if (_namespaces.TryGetValue(name, out var existing))
        {
            return existing;
        }

        lock (_lock)
        {
            foreach (var (_, parent) in _dynamicParents)
            {
                if (parent.Children!.TryGetValue(name, out var child))
                {
                    return child;
                }
            }

            if (_namespaces.TryGetValue(name, out existing))
            {
                return existing;
            }

            var created = _namespaces[name] = new Namespace(this, name, null, isDynamicParent: false);
            OnNamespaceCreated(created);
            return created;
        }
    }

    /// <summary>A dynamic namespace: every namespace whose whole name matches <paramref name="pattern"/> is created on first connection.</summary>
    public Namespace Of(Regex pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        return Of((name, _) => ValueTask.FromResult(pattern.IsMatch(name)), pattern.ToString());
    }

    /// <summary>
    /// A dynamic namespace: a client connecting to a namespace that does not exist yet creates it when
    /// <paramref name="predicate"/> (given the name and the client's <c>auth</c> payload) returns true.
    /// </summary>
    public Namespace Of(Func<string, JsonElement?, ValueTask<bool>> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return Of(predicate, "dynamic");
    }

    /// <summary>Runs for each socket that connects to the main namespace.</summary>
    public SocketIOServer OnConnection(Action<Socket> handler)
    {
        Sockets.OnConnection(handler);
        return this;
    }

    /// <inheritdoc cref="OnConnection(Action{Socket})"/>
    public SocketIOServer OnConnection(Func<Socket, Task?> handler)
    {
        Sockets.OnConnection(handler);
        return this;
    }

    /// <summary>Adds connection middleware to the main namespace.</summary>
    public SocketIOServer Use(Func<Socket, Func<Task>, Task> middleware)
    {
        Sockets.Use(middleware);
        return this;
    }

    /// <summary>Targets the sockets of the main namespace in <paramref name="room"/>.</summary>
    public BroadcastOperator To(string room) => Sockets.To(room);

    /// <summary>Targets the sockets of the main namespace in any of <paramref name="rooms"/>.</summary>
    public BroadcastOperator To(IEnumerable<string> rooms) => Sockets.To(rooms);

    /// <summary>Same as <see cref="To(string)"/>.</summary>
    public BroadcastOperator In(string room) => Sockets.In(room);

    /// <summary>Same as <see cref="To(IEnumerable{string})"/>.</summary>
    public BroadcastOperator In(IEnumerable<string> rooms) => Sockets.In(rooms);

    /// <summary>Targets the main namespace except the sockets in <paramref name="room"/>.</summary>
    public BroadcastOperator Except(string room) => Sockets.Except(room);

    /// <summary>Targets the main namespace except the sockets in any of <paramref name="rooms"/>.</summary>
    public BroadcastOperator Except(IEnumerable<string> rooms) => Sockets.Except(rooms);

    /// <summary>Whether the event may be compressed (default true); see <see cref="BroadcastOperator.Compress"/>.</summary>
    public BroadcastOperator Compress(bool compress) => Sockets.Compress(compress);

    /// <summary>Sets how long <c>EmitWithAckAsync</c> waits for the acknowledgements.</summary>
    public BroadcastOperator Timeout(TimeSpan timeout) => Sockets.Timeout(timeout);

    /// <summary>Sends event <paramref name="eventName"/> to every socket of the main namespace.</summary>
    public ValueTask EmitAsync(string eventName, params object?[] args) => Sockets.EmitAsync(eventName, args);

    /// <summary>Sends event <paramref name="eventName"/> to every socket of the main namespace and returns their acknowledgements.</summary>
    public ValueTask<IReadOnlyList<SocketArguments>> EmitWithAckAsync(string eventName, params object?[] args) =>
        Sockets.EmitWithAckAsync(eventName, args);

    /// <summary>Returns every socket of the main namespace.</summary>
    public ValueTask<IReadOnlyList<RemoteSocket>> FetchSocketsAsync() => Sockets.FetchSocketsAsync();

    /// <summary>Makes every socket of the main namespace join <paramref name="room"/>.</summary>
    public ValueTask SocketsJoinAsync(string room) => Sockets.SocketsJoinAsync(room);

    /// <summary>Makes every socket of the main namespace leave <paramref name="room"/>.</summary>
    public ValueTask SocketsLeaveAsync(string room) => Sockets.SocketsLeaveAsync(room);

    /// <summary>Disconnects every socket of the main namespace.</summary>
    public ValueTask DisconnectSocketsAsync(bool close = false) => Sockets.DisconnectSocketsAsync(close);

    /// <summary>Runs when another server of the cluster (or an emitter) sends <paramref name="eventName"/> to the main namespace with <c>ServerSideEmitAsync</c>.</summary>
    public SocketIOServer OnServerSideEmit(string eventName, Action<ServerSideEvent> handler)
    {
        Sockets.OnServerSideEmit(eventName, handler);
        return this;
    }

    /// <summary>Sends an event to the other servers of the cluster; nothing on a single node.</summary>
    public ValueTask ServerSideEmitAsync(string eventName, params object?[] args) => Sockets.ServerSideEmitAsync(eventName, args);

    internal async ValueTask<Namespace?> ResolveNamespaceAsync(string name, JsonElement? auth)
    {
        if (_namespaces.TryGetValue(name, out var nsp))
        {
            return nsp;
        }

        (Func<string, JsonElement?, ValueTask<bool>> Matches, Namespace Parent)[] parents;
        lock (_lock)
        {
            parents = [.. _dynamicParents];
        }

        foreach (var (matches, parent) in parents)
        {
            if (parent.Children!.TryGetValue(name, out var child))
            {
                return child;
            }

            if (await matches(name, auth).ConfigureAwait(false))
            {
                return parent.GetOrAddChild(name);
            }
        }

        return null;
    }

    internal void RemoveClient(IEngineConnection connection)
    {
        _clients.TryRemove(connection.Id, out _);
        if (_clients.IsEmpty)
        {
            lock (_lock)
            {
                _clientsClosed?.TrySetResult();
            }
        }
    }

    /// <summary>Completes once every client has closed and its sockets have left their rooms (at shutdown, after the sessions were closed).</summary>
    internal Task WhenClientsClosedAsync()
    {
        lock (_lock)
        {
            if (_clients.IsEmpty)
            {
                return Task.CompletedTask;
            }

            _clientsClosed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _clientsClosed.Task;
        }
    }

    /// <summary>The namespace named <paramref name="name"/>, a dynamic parent's child included, if this gateway has it.</summary>
    internal Namespace? FindNamespace(string name)
    {
        if (_namespaces.TryGetValue(name, out var nsp))
        {
            return nsp;
        }

        lock (_lock)
        {
            foreach (var (_, parent) in _dynamicParents)
            {
                if (parent.Children!.TryGetValue(name, out var child))
                {
                    return child;
                }
            }
        }

        return null;
    }

    /// <summary>Every socket connected to this gateway, in every namespace (a copy).</summary>
    internal List<Socket> LocalSockets()
    {
        var sockets = new List<Socket>();
        foreach (var nsp in _namespaces.Values)
        {
            sockets.AddRange(nsp.Sockets.Values);
        }

        lock (_lock)
        {
            foreach (var (_, parent) in _dynamicParents)
            {
                foreach (var child in parent.Children!.Values)
                {
                    sockets.AddRange(child.Sockets.Values);
                }
            }
        }

        return sockets;
    }

    private Namespace Of(Func<string, JsonElement?, ValueTask<bool>> predicate, string description)
    {
        var parent = new Namespace(this, "/" + "{" + description + "}", null, isDynamicParent: true);
        lock (_lock)
        {
            _dynamicParents.Add((predicate, parent));
        }

        return parent;
    }

    private sealed class Handler(SocketIOServer server) : IEngineHandler
    {
        public void OnOpen(IEngineConnection connection)
        {
            var client = server._clients[connection.Id] = new Client(server, connection);
            if (client.IsLegacy)
            {
                client.ConnectMainNamespace();
            }
        }

        public void OnMessage(IEngineConnection connection, in ReadOnlySequence<byte> data, bool isBinary)
        {
            if (server._clients.TryGetValue(connection.Id, out var client))
            {
                client.OnMessage(data, isBinary);
            }
        }

        public void OnClose(IEngineConnection connection, string reason)
        {
            if (server._clients.TryGetValue(connection.Id, out var client))
            {
                client.OnClose(reason);
            }
        }
    }
}
