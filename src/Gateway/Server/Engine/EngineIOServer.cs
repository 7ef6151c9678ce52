using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;

namespace OrleansRooms.Engine;

/// <summary>
/// An Engine.IO v4 server on its own, without Socket.IO (as Node's <c>engine.io</c> package): clients connect over
/// long-polling or WebSocket (with the upgrade between them), the server keeps the heartbeat, and the application
/// exchanges text and binary messages with each <see cref="EngineIOConnection"/>. Register it with
/// <c>services.AddEngineIO()</c>, map it with <c>app.MapEngineIO(path, engine => ...)</c>.
/// </summary>
public sealed class EngineIOServer
{
    private readonly ConcurrentDictionary<string, EngineIOConnection> _connections = new(StringComparer.Ordinal);
    private readonly ILogger _logger;
    private Action<EngineIOConnection>? _onConnection;

    internal EngineIOServer(EngineIOOptions options, ILoggerFactory loggerFactory, TimeProvider timeProvider, System.Diagnostics.Metrics.IMeterFactory meterFactory)
    {
        _logger = loggerFactory.CreateLogger("OrleansRooms.EngineIO");
        Engine = new EngineServer(options, new Handler(this), loggerFactory, timeProvider, meterFactory, Events);
    }

    /// <summary>Refused requests and response headers (Engine.IO's <c>connection_error</c>, <c>initial_headers</c>, <c>headers</c>).</summary>
    public EngineEvents Events { get; } = new();

    /// <summary>The connections open now.</summary>
    public int ConnectionCount => _connections.Count;

    internal EngineServer Engine { get; }

    /// <summary>
    /// Sets what runs for each new connection, once its handshake is done and before any of its messages; register
    /// the connection's <see cref="EngineIOConnection.OnMessage"/> and <see cref="EngineIOConnection.OnClose"/> there.
    /// </summary>
    public void OnConnection(Action<EngineIOConnection> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _onConnection = handler;
    }

    private sealed class Handler(EngineIOServer server) : IEngineHandler
    {
        public void OnOpen(IEngineConnection connection)
        {
            var wrapper = new EngineIOConnection(connection);
            server._connections[connection.Id] = wrapper;
            try
            {
                server._onConnection?.Invoke(wrapper);
            }
            catch (Exception exception)
            {
                EngineLog.HandlerError(server._logger, connection.Id, exception);
            }
        }

        public void OnMessage(IEngineConnection connection, in ReadOnlySequence<byte> data, bool isBinary)
        {
            if (server._connections.TryGetValue(connection.Id, out var wrapper))
            {
                wrapper.Receive(isBinary ? new EngineIOMessage(null, data.ToArray()) : new EngineIOMessage(Encoding.UTF8.GetString(data), null));
            }
        }

        public void OnClose(IEngineConnection connection, string reason)
        {
            if (server._connections.TryRemove(connection.Id, out var wrapper))
            {
                wrapper.Closed(reason);
            }
        }
    }
}
