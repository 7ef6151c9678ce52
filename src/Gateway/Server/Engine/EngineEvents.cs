using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace OrleansRooms.Engine;

/// <summary>
/// The events of the Engine.IO server beneath Socket.IO (Socket.IO's <c>io.engine.on(...)</c>): requests it refuses,
/// and the response headers of the handshake and of every later response, which the application may add to or change.
/// Reach it as <see cref="SocketIOServer.Engine"/>, or through <see cref="EngineIOServer"/> for an Engine.IO server on
/// its own. Handlers run on the request's thread and should be quick; one that throws is logged and the rest still run.
/// </summary>
public sealed class EngineEvents
{
    private readonly Lock _lock = new();

    // Replaced, never changed: a request reads them without a lock.
    private Action<EngineConnectionError>[] _connectionError = [];
    private Action<IHeaderDictionary, HttpRequest>[] _initialHeaders = [];
    private Action<IHeaderDictionary, HttpRequest>[] _headers = [];

    internal EngineEvents()
    {
    }

    /// <summary>
    /// Runs for every request the engine refuses (Engine.IO's <c>connection_error</c>): an unknown transport or session,
    /// a handshake that is not a GET, a bad request, a request <see cref="EngineIOOptions.AllowRequest"/> forbade, an
    /// unsupported protocol version. The client gets the same code and message in the JSON body of the error response.
    /// </summary>
    public EngineEvents OnConnectionError(Action<EngineConnectionError> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_lock)
        {
            _connectionError = [.. _connectionError, handler];
        }

        return this;
    }

    /// <summary>
    /// Runs for the response to a handshake, the first request of a session (Engine.IO's <c>initial_headers</c>), before
    /// the <see cref="OnHeaders"/> handlers: add or change its headers there, such as a cookie that pins the client to
    /// this gateway. For a WebSocket handshake, the headers are those of the 101 response.
    /// </summary>
    public EngineEvents OnInitialHeaders(Action<IHeaderDictionary, HttpRequest> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_lock)
        {
            _initialHeaders = [.. _initialHeaders, handler];
        }

        return this;
    }

    /// <summary>
    /// Runs for every successful response of the engine (Engine.IO's <c>headers</c>): the handshake, each long-polling
    /// GET and POST, and the 101 response of a WebSocket (handshake or upgrade). Error responses do not run it.
    /// </summary>
    public EngineEvents OnHeaders(Action<IHeaderDictionary, HttpRequest> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_lock)
        {
            _headers = [.. _headers, handler];
        }

        return this;
    }

    internal void RaiseConnectionError(HttpContext context, EngineError error, ILogger logger)
    {
        var handlers = Volatile.Read(ref _connectionError);
        if (handlers.Length == 0)
        {
            return;
        }

        var e = new EngineConnectionError(context.Request, error.Status, error.Code, error.Message, EngineConnectionError.ContextOf(context.Request, error.Code));
        foreach (var handler in handlers)
        {
            try
            {
                handler(e);
            }
            catch (Exception ex)
            {
                EngineLog.EventHandlerFailed(logger, "connection_error", ex);
            }
        }
    }

    internal void RaiseHeaders(HttpContext context, bool initial, ILogger logger)
    {
        if (initial)
        {
            Raise(Volatile.Read(ref _initialHeaders), context, "initial_headers", logger);
        }

        Raise(Volatile.Read(ref _headers), context, "headers", logger);
    }

    private static void Raise(Action<IHeaderDictionary, HttpRequest>[] handlers, HttpContext context, string name, ILogger logger)
    {
        foreach (var handler in handlers)
        {
            try
            {
                handler(context.Response.Headers, context.Request);
            }
            catch (Exception ex)
            {
                EngineLog.EventHandlerFailed(logger, name, ex);
            }
        }
    }
}
