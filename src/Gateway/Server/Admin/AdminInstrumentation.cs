using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansRooms.Engine;

namespace OrleansRooms.Admin;

/// <summary>
/// The server side of the Socket.IO Admin UI on this gateway (the package's <c>instrument(io, options)</c>): the admin
/// namespace and its authentication, the <c>config</c> an admin client gets, this gateway's <c>server_stats</c> every
/// <see cref="AdminUIOptions.StatsInterval"/>, in development mode its sockets' events, and the operations.
/// <para>
/// Everything is emitted to the admin namespace with an ordinary broadcast, which reaches the admin clients of every
/// gateway: each gateway reports as a server of its own, and the UI, connected to any one of them, sees the cluster
/// (the package does the same through its adapter).
/// </para>
/// </summary>
internal sealed class AdminInstrumentation : IHostedService, IDisposable
{
    private const int OutboxCapacity = 10_000;

    private static readonly DateTimeOffset ProcessStarted = new(Process.GetCurrentProcess().StartTime.ToUniversalTime(), TimeSpan.Zero);

    private readonly SocketIOServer _io;
    private readonly EngineServer _engine;
    private readonly AdminUIOptions _options;
    private readonly AdminUIMode _mode;
    private readonly string _serverId;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly AdminAuthentication? _authentication;
    private readonly ConcurrentDictionary<Namespace, bool> _watched = new();
    // One sender, in order: events raised under the rooms' locks are sent from outside them, and keep their order.
    // Bounded: a connection storm faster than the cluster takes the events drops the oldest (counted, and logged with
    // the next statistics) rather than growing without end; the UI then reloads its sockets to be exact again.
    private readonly Channel<(string Event, object?[] Args)> _outbox;
    private long _dropped;
    private readonly EngineActivity _activity = new();
    private Namespace? _namespace;
    private AdminOperations? _operations;
    private ITimer? _statsTimer;
    private Task _sending = Task.CompletedTask;

    public AdminInstrumentation(
        SocketIOServer io,
        EngineServer engine,
        IOptions<AdminUIOptions> options,
        IHostEnvironment environment,
        IDataProtectionProvider dataProtection,
        ILocalSiloDetails silo,
        TimeProvider time,
        ILoggerFactory loggerFactory)
    {
        _io = io;
        _engine = engine;
        _options = options.Value;
        _mode = _options.Mode ?? (environment.IsDevelopment() ? AdminUIMode.Development : AdminUIMode.Production);
        _serverId = _options.ServerId ?? $"{Environment.MachineName}#{silo.SiloAddress.Endpoint}";
        _time = time;
        _outbox = Channel.CreateBounded<(string, object?[])>(
            new BoundedChannelOptions(OutboxCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropOldest },
            _ => Interlocked.Increment(ref _dropped));
        _logger = loggerFactory.CreateLogger("OrleansRooms.Admin");
        if (_options.Auth.Type == AdminUIAuthType.Basic)
        {
            _authentication = new AdminAuthentication(_options, dataProtection, _logger);
        }
    }

    /// <summary>The features the UI is told it may use (<c>config.supportedFeatures</c>).</summary>
    internal IReadOnlyList<string> SupportedFeatures { get; private set; } = [];

    private bool IsDevelopment => _mode == AdminUIMode.Development;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var features = new List<string>();
        if (!_options.ReadOnly)
        {
            features.AddRange(["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT"]);
        }

        features.Add("AGGREGATED_EVENTS");
        if (IsDevelopment)
        {
            features.Add("ALL_EVENTS");
        }

        SupportedFeatures = features;
        var nsp = _namespace = _io.Of(_options.NamespaceName);
        _operations = new AdminOperations(_io, _options.ReadOnly, _logger);
        if (_authentication is { } authentication)
        {
            nsp.Use(authentication.AuthenticateAsync);
        }
        else
        {
            AdminLog.NoAuthentication(_logger, nsp.Name);
        }

        nsp.OnConnection(OnAdminConnectedAsync);
        _sending = SendAllAsync();
        if (IsDevelopment)
        {
            _io.NamespaceCreated += Watch;
            _io.SocketConnected += OnSocketConnected;
            _io.SocketDisconnected += OnSocketDisconnected;
            _activity.Upgraded += OnUpgraded;
            foreach (var existing in _io.SnapshotNamespaces())
            {
                Watch(existing);
            }
        }

        _engine.Activity = _activity;
        _statsTimer = _time.CreateTimer(static state => ((AdminInstrumentation)state!).QueueStats(), this, TimeSpan.Zero, _options.StatsInterval);
        AdminLog.Enabled(_logger, nsp.Name, _serverId, _mode, _options.Auth.Type!.Value, _options.ReadOnly);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _statsTimer?.Dispose();
        _io.NamespaceCreated -= Watch;
        _io.SocketConnected -= OnSocketConnected;
        _io.SocketDisconnected -= OnSocketDisconnected;
        _activity.Upgraded -= OnUpgraded;
        _outbox.Writer.TryComplete();
        await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _statsTimer?.Dispose();

    /// <summary>This gateway's statistics, as the UI's server list and charts read them.</summary>
    internal JsonObject BuildStats()
    {
        var now = _time.GetUtcNow();
        var namespaces = new JsonArray();
        foreach (var nsp in _io.SnapshotNamespaces())
        {
            namespaces.Add(new JsonObject { ["name"] = nsp.Name, ["socketsCount"] = nsp.Sockets.Count });
        }

        // The package buckets events by the second they happened in; these are bucketed by the second they are read in,
        // a few seconds later at most (the UI groups them by 10 s).
        var counts = _activity.TakeCounts();
        var second = now.ToUnixTimeMilliseconds() / 1000 * 1000;
        var events = new JsonArray();
        void Add(string type, string? subType, long count)
        {
            if (count > 0)
            {
                var entry = new JsonObject { ["timestamp"] = second, ["type"] = type, ["count"] = count };
                if (subType is not null)
                {
                    entry["subType"] = subType;
                }

                events.Add(entry);
            }
        }

        Add("rawConnection", null, counts.Opened);
        foreach (var (reason, count) in counts.Closed)
        {
            Add("rawDisconnection", reason, count);
        }

        Add("packetsIn", null, counts.PacketsIn);
        Add("bytesIn", null, counts.BytesIn);
        Add("packetsOut", null, counts.PacketsOut);
        Add("bytesOut", null, counts.BytesOut);
        return new JsonObject
        {
            ["serverId"] = _serverId,
            ["hostname"] = Environment.MachineName,
            ["pid"] = Environment.ProcessId,
            ["uptime"] = Math.Round((now - ProcessStarted).TotalSeconds, 3),
            ["clientsCount"] = _engine.OpenSessionCount,
            ["pollingClientsCount"] = _engine.CountPollingSessions(),
            ["aggregatedEvents"] = events,
            ["namespaces"] = namespaces,
            // Not read by the UI of @socket.io/admin-ui 0.5.1; for other readers of server_stats.
            ["memoryUsage"] = new JsonObject
            {
                ["rss"] = Environment.WorkingSet,
                ["heapTotal"] = GC.GetGCMemoryInfo().HeapSizeBytes,
                ["heapUsed"] = GC.GetTotalMemory(forceFullCollection: false),
            },
        };
    }

    private async Task OnAdminConnectedAsync(Socket socket)
    {
        if (_authentication?.TakeIssuedSession(socket) is { } session)
        {
            await socket.EmitAsync("session", session).ConfigureAwait(false);
        }

        _operations!.Register(socket);
        await socket.EmitAsync("config", new JsonObject { ["supportedFeatures"] = new JsonArray([.. SupportedFeatures.Select(f => JsonValue.Create(f))]) }).ConfigureAwait(false);
        if (IsDevelopment)
        {
            await socket.EmitAsync("all_sockets", await FetchAllSocketsAsync().ConfigureAwait(false)).ConfigureAwait(false);
        }
    }

    /// <summary>Every socket of every namespace of this gateway, wherever in the cluster it is connected.</summary>
    private async Task<JsonArray> FetchAllSocketsAsync()
    {
        var fetches = _io.SnapshotNamespaces().Select(async nsp => (nsp.Name, Sockets: await nsp.FetchSocketsAsync().ConfigureAwait(false)));
        var all = new JsonArray();
        foreach (var (name, sockets) in await Task.WhenAll(fetches).ConfigureAwait(false))
        {
            foreach (var socket in sockets)
            {
                all.Add(AdminSocketJson.Serialize(socket, name, _io.JsonOptions));
            }
        }

        return all;
    }

    private void Watch(Namespace nsp)
    {
        if (_watched.TryAdd(nsp, true))
        {
            var name = nsp.Name;
            nsp.Adapter.JoinRoom += (room, id) => Queue("room_joined", name, room, id, _time.GetUtcNow());
            nsp.Adapter.LeaveRoom += (room, id) => Queue("room_left", name, room, id, _time.GetUtcNow());
        }
    }

    private void OnSocketConnected(Socket socket)
    {
        try
        {
            AdminSocketJson.Tag(socket);
            Queue("socket_connected", AdminSocketJson.Serialize(new RemoteSocket(socket), socket.Namespace.Name, _io.JsonOptions), _time.GetUtcNow());
        }
        catch (Exception ex)
        {
            // Raised on the socket's connect path, which must go on: the UI misses this socket until it reloads.
            AdminLog.EmitFailed(_logger, "socket_connected", ex);
        }
    }

    private void OnSocketDisconnected(Socket socket, string reason) =>
        Queue("socket_disconnected", socket.Namespace.Name, socket.Id, reason, _time.GetUtcNow());

    private void OnUpgraded(string sessionId)
    {
        try
        {
            foreach (var socket in _io.SocketsOfConnection(sessionId))
            {
                AdminSocketJson.Tag(socket);
                Queue("socket_updated", new JsonObject { ["id"] = socket.Id, ["nsp"] = socket.Namespace.Name, ["transport"] = socket.Transport });
            }
        }
        catch (Exception ex)
        {
            // Raised on the upgrade path, which must go on.
            AdminLog.EmitFailed(_logger, "socket_updated", ex);
        }
    }

    private void QueueStats()
    {
        if (Interlocked.Exchange(ref _dropped, 0) is var dropped and > 0)
        {
            AdminLog.EventsDropped(_logger, dropped, OutboxCapacity);
        }

        try
        {
            Queue("server_stats", BuildStats());
        }
        catch (Exception ex)
        {
            // A timer's callback has no caller: the failure is logged, and the next period tries again.
            AdminLog.EmitFailed(_logger, "server_stats", ex);
        }
    }

    private void Queue(string eventName, params object?[] args) => _outbox.Writer.TryWrite((eventName, args));

    private async Task SendAllAsync()
    {
        await foreach (var (eventName, args) in _outbox.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                await _namespace!.EmitAsync(eventName, args).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                AdminLog.EmitFailed(_logger, eventName, ex);
            }
        }
    }
}
