using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OrleansRooms.Hosting;

namespace OrleansRooms.Engine;

/// <summary>
/// The Engine.IO server (protocol v4, and v3 when <c>AllowEIO3</c> is on): answers every request under the Socket.IO
/// path (handshake, long-polling GET and POST, WebSocket and upgrade), keeps the sessions, and keeps every session's
/// deadlines on one timing wheel.
/// </summary>
internal sealed class EngineServer : IDisposable
{
    private const byte RecordSeparator = 0x1E;
    private static readonly byte[] Ok = "ok"u8.ToArray();
    private static readonly TimeSpan ShutdownWait = TimeSpan.FromSeconds(5);

    // How late a ping or timeout may run. The wheel's cost is its wake-ups, at most one per tick: at 10,000-20,000
    // sessions 4 ms cost 5-8 ms of CPU per second against 6-15 for 2 ms (bench/Gateway.Bench --timers).
    internal static readonly TimeSpan TimerResolution = TimeSpan.FromMilliseconds(4);

    private readonly ConcurrentDictionary<string, EngineSession> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<WebSocketTransport, byte> _webSockets = new();
    private readonly bool _webSocketAllowed;
    private readonly bool _pollingAllowed;
    private int _openSessions;
    private volatile bool _shuttingDown;

    public EngineServer(EngineIOOptions options, IEngineHandler handler, ILoggerFactory loggerFactory, TimeProvider timeProvider, IMeterFactory meterFactory, EngineEvents? events = null)
    {
        Options = options;
        Handler = handler;
        Events = events ?? new EngineEvents();
        Logger = loggerFactory.CreateLogger("OrleansRooms.Engine");
        Time = timeProvider;
        Metrics = new EngineMetrics(meterFactory, SendBufferUsage);
        _webSocketAllowed = Options.Transports.HasFlag(SocketIOTransports.WebSocket);
        _pollingAllowed = Options.Transports.HasFlag(SocketIOTransports.Polling);

        // The longest usual delay is the drain of a closed polling session (pingInterval + pingTimeout).
        var span = Options.PingInterval + Options.PingTimeout;
        Timers = new TimerWheel(timeProvider, TimerResolution, span > Options.UpgradeTimeout ? span : Options.UpgradeTimeout, Logger);
    }

    internal EngineIOOptions Options { get; }

    internal IEngineHandler Handler { get; }

    internal EngineEvents Events { get; }

    internal ILogger Logger { get; }

    internal TimeProvider Time { get; }

    internal EngineMetrics Metrics { get; }

    /// <summary>Every session's heartbeat, upgrade and drain deadlines.</summary>
    internal TimerWheel Timers { get; }

    /// <summary>Called when a polling GET parks on a session: lets tests wait for it instead of polling for it.</summary>
    internal Action<EngineSession>? PollParked { get; set; }

    /// <summary>
    /// Where WebSocket receive buffers come from: rented when bytes arrive, returned once they are parsed, so an idle
    /// connection holds none. Tests count its rentals.
    /// </summary>
    internal MemoryPool<byte> ReceivePool { get; init; } = MemoryPool<byte>.Shared;

    /// <summary>The WebSockets running now (upgrade probes included); for tests.</summary>
    internal ICollection<WebSocketTransport> WebSockets => _webSockets.Keys;

    /// <summary>Sessions open now (handshake done, not yet closed).</summary>
    public int OpenSessionCount => Volatile.Read(ref _openSessions);

    /// <summary>What the sessions did, counted only once someone attached it (the admin UI); null, nothing is counted.</summary>
    internal EngineActivity? Activity { get; set; }

    /// <summary>How many open sessions still use long-polling (read by walking the sessions: for statistics, not hot paths).</summary>
    internal int CountPollingSessions()
    {
        var count = 0;
        foreach (var session in _sessions.Values)
        {
            if (session.TransportName == "polling")
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Answers one request under the Socket.IO path.</summary>
    public Task HandleRequestAsync(HttpContext context)
    {
        var request = context.Request;
        if (HttpMethods.IsOptions(request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        }

        // Read from the raw query string: request.Query would build a collection the HttpContext keeps for the
        // lifetime of a WebSocket.
        var query = request.QueryString.Value;
        if (EngineRequest.FindQueryValue(query, "EIO", out var eio) != 1 || !(eio == "4" || (eio == "3" && Options.AllowEIO3)))
        {
            return RefuseAsync(context, EngineErrors.UnsupportedProtocolVersion);
        }

        var protocol = eio == "3" ? EngineProtocol.V3 : EngineProtocol.V4;
        if (protocol == EngineProtocol.V3 && EngineRequest.FindQueryValue(query, "j", out _) != 0)
        {
            return RefuseAsync(context, EngineErrors.JsonpUnsupported);
        }

        var transportCount = EngineRequest.FindQueryValue(query, "transport", out var transport);
        var isWebSocket = transport == "websocket";
        if (transportCount != 1 || !(isWebSocket ? _webSocketAllowed : transport == "polling" && _pollingAllowed))
        {
            return RefuseAsync(context, EngineErrors.UnknownTransport);
        }

        if (isWebSocket != WebSocketTransport.IsUpgradeRequest(context))
        {
            return RefuseAsync(context, EngineErrors.BadRequest);
        }

        var sidCount = EngineRequest.FindQueryValue(query, "sid", out var sid);
        if (sidCount == 0 || (sidCount == 1 && string.IsNullOrEmpty(sid)))
        {
            // A v3 client that cannot read binary payloads (no XHR2, as in Node.js) asks for base64 with b64=1.
            return HandshakeAsync(context, isWebSocket, protocol, binaryPolling: EngineRequest.FindQueryValue(query, "b64", out _) == 0);
        }

        // A session past its heartbeat deadline is closed here, as if the wheel had just swept it.
        if (sidCount != 1 || !_sessions.TryGetValue(sid!, out var session) || session.CloseIfOverdue())
        {
            return RefuseAsync(context, EngineErrors.UnknownSid);
        }

        if (session.Protocol != protocol)
        {
            return RefuseAsync(context, EngineErrors.BadRequest);
        }

        if (isWebSocket)
        {
            return UpgradeAsync(context, session);
        }
        else if (session.TransportName != "polling")
        {
            // The session moved to its WebSocket: polling requests for it are stale or forged.
            return RefuseAsync(context, EngineErrors.BadRequest);
        }
        else if (HttpMethods.IsGet(request.Method))
        {
            return PollAsync(context, session);
        }
        else if (HttpMethods.IsPost(request.Method))
        {
            return PostAsync(context, session);
        }
        else
        {
            return RefuseAsync(context, EngineErrors.BadRequest);
        }
    }

    /// <summary>Closes every session with <c>server shutting down</c> and waits (a few seconds at most) for the WebSockets to close.</summary>
    public async Task ShutdownAsync()
    {
        _shuttingDown = true;
        foreach (var session in _sessions.Values)
        {
            session.CloseCore("server shutting down", CloseKind.Forced);
        }

        var closing = new List<Task>();
        foreach (var webSocket in _webSockets.Keys)
        {
            closing.Add(webSocket.Completion);
        }

        try
        {
            await Task.WhenAll(closing).WaitAsync(ShutdownWait, Time);
        }
        catch (TimeoutException)
        {
            // Clients that do not answer the close frame are left to the connection's own end.
        }
    }

    public void Dispose() => Timers.Dispose();

    internal void Remove(EngineSession session) =>
        _sessions.TryRemove(new KeyValuePair<string, EngineSession>(session.Id, session));

    internal void OnSessionClosed(EngineSession session, string reason)
    {
        Interlocked.Decrement(ref _openSessions);
        Metrics.Connections.Add(-1);
        Activity?.Closed(reason);
        EngineLog.SessionClosed(Logger, session.Id, reason);
    }

    private Task RefuseAsync(HttpContext context, EngineError error)
    {
        EngineLog.RequestRefused(Logger, error.Status, error.Code, error.Message);
        Events.RaiseConnectionError(context, error, Logger);
        return EngineErrors.WriteAsync(context, error);
    }

    private async ValueTask<bool> IsAllowedAsync(HttpContext context) =>
        Options.AllowRequest is not { } allow || await allow(context);

    // ---- handshake ----

    private async Task HandshakeAsync(HttpContext context, bool isWebSocket, EngineProtocol protocol, bool binaryPolling)
    {
        // Started as a child of the handshake's HTTP request, and ended before a WebSocket runs: its connection is not part of it.
        var activity = GatewayActivities.Source.StartActivity(GatewayActivities.Handshake, ActivityKind.Server);
        var transport = isWebSocket ? "websocket" : "polling";
        activity?.SetTag(GatewayActivities.TransportTag, transport);
        var start = Metrics.HandshakeDuration.Enabled ? Time.GetTimestamp() : 0;
        var stream = (Stream?)null;
        WebSocketTransport? webSocket = null;
        EngineSession? wsSession = null;
        EngineRequest? request = null;
        try
        {
            if (!HttpMethods.IsGet(context.Request.Method))
            {
                await RefuseHandshakeAsync(activity, context, EngineErrors.BadHandshakeMethod);
                return;
            }

            // Kestrel still accepts while the sessions close: a session opened now would die at once.
            if (_shuttingDown)
            {
                await RefuseHandshakeAsync(activity, context, EngineErrors.ShuttingDown);
                return;
            }

            if (!await IsAllowedAsync(context))
            {
                await RefuseHandshakeAsync(activity, context, EngineErrors.Forbidden);
                return;
            }

            var id = NewSessionId();
            var open = OpenPacket(id, upgrades: !isWebSocket && Options.AllowUpgrades && _webSocketAllowed, protocol);
            if (!isWebSocket)
            {
                var captured = new EngineRequest(context, Time.GetUtcNow());
                try
                {
                    var session = new EngineSession(this, id, captured, webSocket: null, first: null, protocol, binaryPolling);
                    Register(session);
                    session.Open();
                    CloseIfShuttingDown(session);
                    await WritePayloadAsync(context, session, [open], initial: true);
                }
                finally
                {
                    captured.Detach();
                }

                Handshaken(activity, start, transport);
                return;
            }

            webSocket = new WebSocketTransport(this);
            (stream, var refusal) = await webSocket.AcceptAsync(context, c => Events.RaiseHeaders(c, initial: true, Logger));
            if (stream is null)
            {
                await RefuseHandshakeAsync(activity, context, refusal ?? EngineErrors.BadRequest);
                return;
            }

            request = new EngineRequest(context, Time.GetUtcNow());
            wsSession = new EngineSession(this, id, request, webSocket, first: open, protocol);
            webSocket.Attach(wsSession);
            Register(wsSession);
            wsSession.Open();
            CloseIfShuttingDown(wsSession);
            webSocket.Signal();
            Handshaken(activity, start, transport);
        }
        catch (Exception ex)
        {
            GatewayActivities.Fail(activity, ex);
            request?.Detach();
            throw;
        }
        finally
        {
            activity?.Stop();
        }

        if (wsSession is null)
        {
            return;
        }

        try
        {
            await webSocket!.RunAsync(stream!, context);
        }
        finally
        {
            request!.Detach();
        }
    }

    private Task RefuseHandshakeAsync(Activity? activity, HttpContext context, EngineError error)
    {
        activity?.SetStatus(ActivityStatusCode.Error, error.Message);
        return RefuseAsync(context, error);
    }

    private void Handshaken(Activity? activity, long start, string transport)
    {
        if (start != 0)
        {
            Metrics.HandshakeDuration.Record(Time.GetElapsedTime(start).TotalSeconds, new KeyValuePair<string, object?>(GatewayActivities.TransportTag, transport));
        }
    }

    // A handshake that passed its check as shutdown began is closed here if shutdown did not see it.
    private void CloseIfShuttingDown(EngineSession session)
    {
        if (_shuttingDown)
        {
            session.CloseCore("server shutting down", CloseKind.Forced);
        }
    }

    private long SendBufferUsage()
    {
        long bytes = 0;
        foreach (var session in _sessions.Values)
        {
            bytes += session.PendingBytes;
        }

        return bytes;
    }

    private void Register(EngineSession session)
    {
        _sessions[session.Id] = session;
        Interlocked.Increment(ref _openSessions);
        Metrics.Connections.Add(1);
        Activity?.Opened();
        EngineLog.SessionOpened(Logger, session.Id, session.TransportName);
    }

    /// <summary>A WebSocket starts or stops running (what shutdown waits for).</summary>
    internal void Track(WebSocketTransport webSocket, bool running)
    {
        if (running)
        {
            _webSockets.TryAdd(webSocket, 0);
        }
        else
        {
            _webSockets.TryRemove(webSocket, out _);
        }
    }

    private EnginePacket OpenPacket(string sid, bool upgrades, EngineProtocol protocol)
    {
        // maxPayload came with v4; a v3 client does not know it.
        var maxPayload = protocol == EngineProtocol.V4
            ? string.Create(CultureInfo.InvariantCulture, $",\"maxPayload\":{Options.MaxHttpBufferSize}")
            : string.Empty;
        var json = string.Create(CultureInfo.InvariantCulture,
            $"0{{\"sid\":\"{sid}\",\"upgrades\":{(upgrades ? "[\"websocket\"]" : "[]")},\"pingInterval\":{(long)Options.PingInterval.TotalMilliseconds},\"pingTimeout\":{(long)Options.PingTimeout.TotalMilliseconds}{maxPayload}}}");
        return EnginePacket.FromText(json);
    }

    private string NewSessionId()
    {
        // 15 random bytes: 120 bits, 20 base64url characters, nothing to guess; the prefix only routes.
        Span<byte> bytes = stackalloc byte[15];
        RandomNumberGenerator.Fill(bytes);
        return string.IsNullOrEmpty(Options.SessionIdPrefix)
            ? Base64Url.EncodeToString(bytes)
            : Options.SessionIdPrefix + Base64Url.EncodeToString(bytes);
    }

    // ---- upgrade ----

    private async Task UpgradeAsync(HttpContext context, EngineSession session)
    {
        if (!Options.AllowUpgrades)
        {
            await RefuseAsync(context, EngineErrors.BadRequest);
            return;
        }

        if (!await IsAllowedAsync(context))
        {
            await RefuseAsync(context, EngineErrors.Forbidden);
            return;
        }

        var probe = new WebSocketTransport(this);
        probe.SetProbeOf(session);
        if (!session.TryBeginUpgrade(probe))
        {
            if (session.IsClosed)
            {
                await RefuseAsync(context, EngineErrors.BadRequest);
            }
            else
            {
                await CloseSecondWebSocketAsync(context, session);
            }

            return;
        }

        Stream? stream;
        EngineError? refusal;
        try
        {
            (stream, refusal) = await probe.AcceptAsync(context, c => Events.RaiseHeaders(c, initial: false, Logger));
        }
        catch
        {
            session.AbandonUpgrade(probe, "handshake failed");
            throw;
        }

        if (stream is null)
        {
            session.AbandonUpgrade(probe, "invalid WebSocket handshake");
            await RefuseAsync(context, refusal ?? EngineErrors.BadRequest);
            return;
        }

        await probe.RunAsync(stream, context);
    }

    /// <summary>
    /// A WebSocket for a session that already has one, or is probing one: as the reference server does, the handshake
    /// completes, then the new WebSocket gets a close frame without a status; the session's transport is not touched.
    /// </summary>
    private async Task CloseSecondWebSocketAsync(HttpContext context, EngineSession session)
    {
        var webSocket = new WebSocketTransport(this);
        var (stream, refusal) = await webSocket.AcceptAsync(context);
        if (stream is null)
        {
            await RefuseAsync(context, refusal ?? EngineErrors.BadRequest);
            return;
        }

        EngineLog.UpgradeAbandoned(Logger, session.Id, "a WebSocket is already open or probing; the new one is closed");
        webSocket.RequestClose(0);
        await webSocket.RunAsync(stream, context);
    }

    // ---- long-polling ----

    private async Task PollAsync(HttpContext context, EngineSession session)
    {
        var start = session.BeginPoll(out var waiter, out var batch);
        switch (start)
        {
            case PollStart.Closed:
                await RefuseAsync(context, EngineErrors.UnknownSid);
                return;
            case PollStart.NotPolling:
                await RefuseAsync(context, EngineErrors.BadRequest);
                return;
            case PollStart.Duplicate:
                // Two GETs at once break ordering: close the session (the parked GET gets the close packet).
                session.CloseCore("transport error", CloseKind.Error);
                await RefuseAsync(context, EngineErrors.BadRequest);
                return;
            case PollStart.Noop:
                await WritePayloadAsync(context, session, [EnginePacket.Noop]);
                return;
            case PollStart.Write:
                await WriteBatchAsync(context, session, batch!);
                return;
        }

        PollSignal signal;
        using (context.RequestAborted.UnsafeRegister(static state => ((PollWaiter)state!).TrySetCanceled(), waiter))
        {
            try
            {
                signal = await waiter!.Task;
            }
            catch (OperationCanceledException)
            {
                session.AbortPoll(waiter!);
                return;
            }
        }

        batch = session.CompletePoll(waiter!, signal);
        if (batch is null)
        {
            await WritePayloadAsync(context, session, [EnginePacket.Noop]);
        }
        else
        {
            await WriteBatchAsync(context, session, batch);
        }
    }

    private async Task WriteBatchAsync(HttpContext context, EngineSession session, List<EnginePacket> batch)
    {
        try
        {
            if (batch.Count == 0)
            {
                await WritePayloadAsync(context, session, [EnginePacket.Noop]);
                return;
            }

            Metrics.PacketsSent.Add(batch.Count);
            if (Activity is { } activity)
            {
                activity.Sent(batch.Count, SumPayloads(batch));
            }

            await WritePayloadAsync(context, session, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(batch));
        }
        finally
        {
            session.ReturnBatch(batch);
        }
    }

    internal static long SumPayloads(List<EnginePacket> batch)
    {
        long bytes = 0;
        foreach (var packet in batch)
        {
            bytes += packet.PayloadLength;
        }

        return bytes;
    }

    /// <summary>Writes packets joined by 0x1E (or framed as Engine.IO v3 frames them) into the response pipe, then flushes once.</summary>
    private Task WritePayloadAsync(HttpContext context, EngineSession session, ReadOnlySpan<EnginePacket> packets, bool initial = false)
    {
        Events.RaiseHeaders(context, initial, Logger);
        if (session.Protocol == EngineProtocol.V3)
        {
            LegacyPollingPayload.Write(context.Response, packets, session.BinaryPolling);
            return FlushAsync(context);
        }

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/plain; charset=UTF-8";
        long length = packets.Length - 1;
        foreach (var packet in packets)
        {
            length += packet.PollingPayload.Length;
        }

        response.ContentLength = length;
        var writer = response.BodyWriter;
        for (var i = 0; i < packets.Length; i++)
        {
            if (i != 0)
            {
                writer.GetSpan(1)[0] = RecordSeparator;
                writer.Advance(1);
            }

            writer.Write(packets[i].PollingPayload.Span);
        }

        return FlushAsync(context);
    }

    private static async Task FlushAsync(HttpContext context)
    {
        try
        {
            await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException)
        {
            // The client left; the session notices through its heartbeat.
        }
    }

    private async Task PostAsync(HttpContext context, EngineSession session)
    {
        if (!session.TryBeginPost())
        {
            // Two POSTs at once break ordering: the spec asks for 400 and closing the session.
            session.CloseCore("transport error", CloseKind.Error);
            await RefuseAsync(context, EngineErrors.BadRequest);
            return;
        }

        PostOutcome outcome;
        try
        {
            outcome = session.Protocol == EngineProtocol.V3
                ? await LegacyPollingPayload.ReadAsync(context.Request, Options.MaxHttpBufferSize, session)
                : await PollingPayloadReader.ReadAsync(context.Request.BodyReader, context.Request.ContentLength, Options.MaxHttpBufferSize, session);
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or BadHttpRequestException)
        {
            EngineLog.TransportError(Logger, session.Id, exception);
            session.CloseCore("transport error", CloseKind.Error);

            // A malformed body (bad chunk size, over Kestrel's limit, too slow) gets an answer, as from Node's parser;
            // when the client is gone, nobody reads it.
            await RefuseAsync(context, exception is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                ? EngineErrors.PayloadTooLarge
                : EngineErrors.BadRequest);
            return;
        }
        finally
        {
            session.EndPost();
        }

        switch (outcome)
        {
            case PostOutcome.Invalid:
                await RefuseAsync(context, EngineErrors.BadRequest);
                return;
            case PostOutcome.TooLarge:
                session.CloseCore("transport error", CloseKind.Error);
                await RefuseAsync(context, EngineErrors.PayloadTooLarge);
                return;
        }

        Events.RaiseHeaders(context, initial: false, Logger);
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/plain; charset=UTF-8";
        response.ContentLength = Ok.Length;
        response.BodyWriter.Write(Ok);
        await FlushAsync(context);
    }
}
