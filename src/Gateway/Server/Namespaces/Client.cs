using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using OrleansRooms.Engine;
using OrleansRooms.Hosting;
using OrleansRooms.Protocol;

namespace OrleansRooms;

/// <summary>
/// One Engine.IO connection and the namespaces it has joined over it (multiplexing). Decodes incoming Socket.IO
/// packets, routes them to the namespace's socket, and writes outgoing packets to the connection.
/// </summary>
internal sealed class Client
{
    private readonly SocketIOServer _server;
    private readonly PacketDecoder _decoder;
    private readonly Lock _lock = new();

    // The sockets by namespace. Most clients use one namespace, so its socket is kept alone and a dictionary is made
    // only for a second one: every idle connection pays for this bookkeeping.
    private Socket? _onlySocket;
    private Dictionary<string, Socket>? _sockets;
    private HashSet<string>? _connecting; // namespaces whose connect is under way; dropped when none is, as most of the time
    private ITimer? _connectTimer;
    private Task _connects = Task.CompletedTask; // the last CONNECT under way; each waits for the one before it
    private int _connectsUnderWay;
    private bool _closed;

    public Client(SocketIOServer server, IEngineConnection connection)
    {
        _server = server;
        Connection = connection;
        _decoder = new PacketDecoder(server.Options.MaxAttachments);
        _connectTimer = server.TimeProvider.CreateTimer(
            static state => ((Client)state!).OnConnectTimeout(), this, server.Options.ConnectTimeout, Timeout.InfiniteTimeSpan);
    }

    public IEngineConnection Connection { get; }

    /// <summary>
    /// An Engine.IO v3 client (<c>socket.io-client</c> 2.x), which speaks Socket.IO protocol v4: it is in the main
    /// namespace without asking, puts its query in the namespace of a CONNECT, and expects a CONNECT without a sid and
    /// an ERROR whose payload is a plain value.
    /// </summary>
    public bool IsLegacy => Connection.Protocol == EngineProtocol.V3;

    /// <summary>A protocol v4 client is connected to the main namespace as its session opens, as the reference server does.</summary>
    public void ConnectMainNamespace() => OnPacket(new Packet { Type = PacketType.Connect, Namespace = "/" });

    /// <summary>A copy of the sockets connected over this client.</summary>
    public Socket[] SnapshotSockets()
    {
        lock (_lock)
        {
            return SocketsLocked();
        }
    }

    public bool Send(EncodedPacket packet) => Connection.Send(packet.Parts);

    public bool SendVolatile(EncodedPacket packet) => Connection.TrySendVolatile(packet.Parts);

    public void OnMessage(in ReadOnlySequence<byte> data, bool isBinary)
    {
        Packet? packet;
        string? error;
        var status = isBinary ? _decoder.DecodeBinary(data, out packet, out error) : _decoder.DecodeText(data, out packet, out error);
        switch (status)
        {
            case DecodeStatus.Complete:
                OnPacket(IsLegacy && packet!.Type == PacketType.Connect ? LegacyConnectPacket.WithQueryAsAuth(packet) : packet!);
                break;
            case DecodeStatus.Error:
                SocketIOLog.ParseError(_server.Logger, Connection.Id, error ?? "invalid packet");
                _ = CloseAsync(DisconnectReason.ParseError, closeConnection: true);
                break;
        }
    }

    public void OnClose(string reason) => _ = CloseAsync(reason, closeConnection: false);

    /// <summary>Closes the whole connection for a protocol violation (reason <c>parse error</c>).</summary>
    public void Abort(string reason) => _ = CloseAsync(reason, closeConnection: true);

    /// <summary>Registers a socket whose middleware let it in; false when the connection closed meanwhile.</summary>
    public bool Accept(Socket socket)
    {
        lock (_lock)
        {
            DoneConnecting(socket.Namespace.Name);
            if (_closed)
            {
                return false;
            }

            SetSocketLocked(socket);
        }

        Interlocked.Exchange(ref _connectTimer, null)?.Dispose();
        return true;
    }

    public void RejectConnect(string nsp, string message, object? data)
    {
        GatewayActivities.CurrentOf(GatewayActivities.Connect)?.SetStatus(ActivityStatusCode.Error, message);
        lock (_lock)
        {
            DoneConnecting(nsp);
        }

        Send(IsLegacy ? PacketEncoder.LegacyError(nsp, message, data, _server.JsonOptions) : PacketEncoder.ConnectError(nsp, message, data, _server.JsonOptions));
    }

    // Under _lock.
    private bool TryGetSocketLocked(string nsp, [NotNullWhen(true)] out Socket? socket)
    {
        if (_sockets is not null)
        {
            return _sockets.TryGetValue(nsp, out socket);
        }

        socket = _onlySocket is { } only && only.Namespace.Name == nsp ? only : null;
        return socket is not null;
    }

    // Under _lock.
    private void SetSocketLocked(Socket socket)
    {
        var nsp = socket.Namespace.Name;
        if (_sockets is not null)
        {
            _sockets[nsp] = socket;
        }
        else if (_onlySocket is null || _onlySocket.Namespace.Name == nsp)
        {
            _onlySocket = socket;
        }
        else
        {
            _sockets = new(StringComparer.Ordinal) { [_onlySocket.Namespace.Name] = _onlySocket, [nsp] = socket };
            _onlySocket = null;
        }
    }

    // Under _lock.
    private Socket[] SocketsLocked() => _sockets is not null ? [.. _sockets.Values] : _onlySocket is { } only ? [only] : [];

    // Under _lock.
    private void DoneConnecting(string nsp)
    {
        if (_connecting is not null && _connecting.Remove(nsp) && _connecting.Count == 0)
        {
            _connecting = null;
        }
    }

    public void Remove(Socket socket)
    {
        lock (_lock)
        {
            if (_sockets is null)
            {
                if (ReferenceEquals(_onlySocket, socket))
                {
                    _onlySocket = null;
                }
            }
            else if (_sockets.TryGetValue(socket.Namespace.Name, out var current) && ReferenceEquals(current, socket))
            {
                _sockets.Remove(socket.Namespace.Name);
            }
        }
    }

    /// <summary>Server-side close of the whole connection: every namespace is disconnected, then the connection closed.</summary>
    public async Task DisconnectAllAsync()
    {
        Socket[] sockets;
        lock (_lock)
        {
            sockets = SocketsLocked();
        }

        foreach (var socket in sockets)
        {
            await socket.DisconnectAsync().ConfigureAwait(false);
        }

        Connection.Close();
    }

    private void OnPacket(Packet packet)
    {
        Socket? socket;
        bool known;
        lock (_lock)
        {
            known = TryGetSocketLocked(packet.Namespace, out socket) || _connecting?.Contains(packet.Namespace) == true;
            if (!known && packet.Type == PacketType.Connect)
            {
                (_connecting ??= new HashSet<string>(StringComparer.Ordinal)).Add(packet.Namespace);
            }
        }

        if (packet.Type == PacketType.Connect)
        {
            if (known)
            {
                // A second CONNECT to a namespace this client is already in is a protocol violation.
                SocketIOLog.InvalidState(_server.Logger, Connection.Id, packet.Namespace, packet.Type.ToString());
                _ = CloseAsync(DisconnectReason.ParseError, closeConnection: true);
                return;
            }

            // One after the other, as they came: the client hears its CONNECT answers in the order it asked.
            lock (_lock)
            {
                _connectsUnderWay++;
                var connect = ConnectAfterAsync(_connects, packet);
                _connects = connect.IsCompleted ? Task.CompletedTask : connect;
            }

            return;
        }

        if (socket is null)
        {
            SocketIOLog.InvalidState(_server.Logger, Connection.Id, packet.Namespace, packet.Type.ToString());
            _ = CloseAsync(DisconnectReason.ParseError, closeConnection: true);
            return;
        }

        socket.OnPacket(packet);
    }

    private async Task ConnectAfterAsync(Task previous, Packet packet)
    {
        try
        {
            await previous.ConfigureAwait(false);
            await ConnectAsync(packet).ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                // The last CONNECT is done: a finished chain would keep this method's state, the packet included, for
                // the life of the connection.
                if (--_connectsUnderWay == 0)
                {
                    _connects = Task.CompletedTask;
                }
            }
        }
    }

    private async Task ConnectAsync(Packet packet)
    {
        // The root of its own trace: the connection's request may last as long as the connection.
        using var activity = GatewayActivities.StartRoot(GatewayActivities.Connect, ActivityKind.Server, out _);
        activity?.SetTag(GatewayActivities.NamespaceTag, packet.Namespace);
        try
        {
            var auth = packet.Data ?? Handshake.EmptyAuth; // Socket.IO's default: a CONNECT without payload means {}
            Namespace? nsp;
            try
            {
                nsp = await _server.ResolveNamespaceAsync(packet.Namespace, auth).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // A dynamic namespace's own check failed: as in Socket.IO, an error there refuses the namespace.
                SocketIOLog.HandlerFailed(_server.Logger, "new_namespace", Connection.Id, ex);
                nsp = null;
            }

            if (nsp is null)
            {
                RejectConnect(packet.Namespace, "Invalid namespace", null);
                return;
            }

            await nsp.ConnectAsync(this, auth).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            GatewayActivities.Fail(activity, ex);
            SocketIOLog.HandlerFailed(_server.Logger, "connect", Connection.Id, ex);
            bool unanswered;
            lock (_lock)
            {
                unanswered = _connecting?.Contains(packet.Namespace) == true;
            }

            if (unanswered)
            {
                // Neither accepted nor refused: the client hears why, rather than waiting for an answer that never comes.
                RejectConnect(packet.Namespace, "Service unavailable", null);
            }
        }
    }

    private async Task CloseAsync(string reason, bool closeConnection)
    {
        Task connects;
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            connects = _connects;
        }

        // A connect under way finishes first (its socket then sees its own disconnection, handlers and all); a connect
        // that comes after this finds the client closed.
        await connects.ConfigureAwait(false);
        Socket[] sockets;
        lock (_lock)
        {
            sockets = SocketsLocked();
        }

        Interlocked.Exchange(ref _connectTimer, null)?.Dispose();
        if (closeConnection)
        {
            Connection.Close();
        }

        foreach (var socket in sockets)
        {
            try
            {
                await socket.CloseAsync(reason).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                SocketIOLog.HandlerFailed(_server.Logger, "disconnect", socket.Id, ex);
            }
        }

        _server.RemoveClient(Connection);
    }

    private void OnConnectTimeout()
    {
        bool idle;
        lock (_lock)
        {
            idle = _onlySocket is null && _sockets is not { Count: > 0 } && !_closed;
        }

        if (idle)
        {
            SocketIOLog.ConnectTimeout(_server.Logger, Connection.Id);
            Connection.Close();
        }
    }
}
