using System.Buffers;
using System.Buffers.Text;
using Microsoft.Extensions.Logging;

namespace OrleansRooms.Engine;

/// <summary>How a session ends, which decides what its transport is told.</summary>
internal enum CloseKind
{
    /// <summary>Server-initiated: what is queued is written first, then the close.</summary>
    Forced,

    /// <summary>The client closed (close packet or close frame): nothing more is written.</summary>
    ClientClosed,

    /// <summary>Ping timeout, transport or parse error: queued packets are dropped, the close is written if possible.</summary>
    Error,
}

/// <summary>What a polling GET should do when it arrives.</summary>
internal enum PollStart
{
    Write,
    Wait,
    Noop,
    Duplicate,
    NotPolling,
    Closed,
}

/// <summary>Why a waiting polling GET was released.</summary>
internal enum PollSignal
{
    Data,
    Noop,
}

/// <summary>What the receive path does after a client packet.</summary>
internal enum PacketResult
{
    Continue,
    Closed,
    ParseError,
}

/// <summary>What the probing WebSocket of an upgrade does after a packet.</summary>
internal enum ProbeResult
{
    Continue,
    Upgraded,
    Abandon,
}

/// <summary>A GET parked until there is something to answer it with.</summary>
internal sealed class PollWaiter() : TaskCompletionSource<PollSignal>(TaskCreationOptions.RunContinuationsAsynchronously);

/// <summary>
/// One Engine.IO session. Outgoing packets are queued under <see cref="_gate"/> and taken in batches by whichever
/// transport writes (the WebSocket writer loop, or the next polling GET). Handler calls are serialized by a second
/// lock so the Socket.IO layer sees one call at a time, in order; <see cref="_gate"/> is never held while calling it.
/// </summary>
internal sealed class EngineSession : IEngineConnection
{
    private static readonly EnginePacket ProbePong = EnginePacket.FromText("3probe"u8);

    private readonly EngineServer _server;
    private readonly Lock _gate = new();
    private readonly Lock _receiveGate = new();

    private List<EnginePacket> _queue = [];
    private List<EnginePacket>? _spare;

    private PollWaiter? _pendingPoll;
    private bool _pollWoken;
    private bool _postPending;

    private WebSocketTransport? _webSocket;
    private WebSocketTransport? _probe;
    private bool _probed;

    private volatile bool _closed;
    private bool _draining;
    private string _transportName;

    // TimeProvider timestamps.
    private long _nextPingAt;
    private long _pongDeadline;
    private long _upgradeDeadline;
    private long _drainDeadline;

    public EngineSession(EngineServer server, string id, EngineRequest request, WebSocketTransport? webSocket, EnginePacket? first)
    {
        _server = server;
        Id = id;
        Request = request;
        _webSocket = webSocket;
        _transportName = webSocket is null ? "polling" : "websocket";
        if (first is not null)
        {
            _queue.Add(first);
        }

        _nextPingAt = server.Time.GetTimestamp() + server.PingIntervalTicks;
    }

    public string Id { get; }

    public EngineRequest Request { get; }

    public string TransportName => Volatile.Read(ref _transportName);

    internal bool IsClosed => _closed;

    /// <summary>Whether a polling GET is parked waiting for packets (what a volatile send needs).</summary>
    internal bool HasParkedPoll
    {
        get
        {
            lock (_gate)
            {
                return _pendingPoll is not null && !_pollWoken;
            }
        }
    }

    public bool Send(ReadOnlySpan<EnginePacket> packets)
    {
        if (packets.IsEmpty)
        {
            return !_closed;
        }

        lock (_gate)
        {
            if (_closed)
            {
                return false;
            }

            foreach (var packet in packets)
            {
                _queue.Add(packet);
            }

            WakeWriterLocked();
        }

        return true;
    }

    public bool TrySendVolatile(ReadOnlySpan<EnginePacket> packets)
    {
        if (packets.IsEmpty)
        {
            return !_closed;
        }

        lock (_gate)
        {
            if (_closed)
            {
                return false;
            }

            if (_webSocket is not null)
            {
                if (_queue.Count != 0 || _webSocket.IsWriting)
                {
                    return false;
                }
            }
            else if (_pendingPoll is null || _pollWoken || _probed)
            {
                return false;
            }

            foreach (var packet in packets)
            {
                _queue.Add(packet);
            }

            WakeWriterLocked();
        }

        return true;
    }

    public void Close() => CloseCore("forced close", CloseKind.Forced);

    internal void Open()
    {
        lock (_receiveGate)
        {
            try
            {
                _server.Handler.OnOpen(this);
            }
            catch (Exception exception)
            {
                EngineLog.HandlerError(_server.Logger, Id, exception);
            }
        }
    }

    /// <summary>Ends the session once: tells the transport, frees the sid, then calls <c>OnClose</c>.</summary>
    internal void CloseCore(string reason, CloseKind kind)
    {
        WebSocketTransport? webSocket;
        WebSocketTransport? probe;
        bool remove;
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            if (kind != CloseKind.Forced)
            {
                _queue.Clear();
            }

            webSocket = _webSocket;
            probe = _probe;
            _probe = null;
            if (webSocket is null)
            {
                if (kind == CloseKind.ClientClosed)
                {
                    // The client asked to close: a parked GET is released with noop, as the reference server does.
                    if (_pendingPoll is not null && !_pollWoken)
                    {
                        _pollWoken = true;
                        _pendingPoll.TrySetResult(PollSignal.Noop);
                    }
                }
                else
                {
                    _queue.Add(EnginePacket.Close);
                    if (_pendingPoll is not null && !_pollWoken)
                    {
                        _pollWoken = true;
                        _pendingPoll.TrySetResult(PollSignal.Data);
                    }
                    else if (_pendingPoll is null && kind == CloseKind.Forced)
                    {
                        // Keep the sid a little so the client's next GET collects the queue and the close packet.
                        _draining = true;
                        _drainDeadline = _server.Time.GetTimestamp() + _server.PingIntervalTicks + _server.PingTimeoutTicks;
                    }
                }
            }

            remove = !_draining;
        }

        if (remove)
        {
            _server.Remove(this);
        }

        webSocket?.RequestClose(WebSocketFrameHeader.NormalClosure);
        probe?.RequestClose(WebSocketFrameHeader.NormalClosure);
        _server.OnSessionClosed(this, reason);
        lock (_receiveGate)
        {
            try
            {
                _server.Handler.OnClose(this, reason);
            }
            catch (Exception exception)
            {
                EngineLog.HandlerError(_server.Logger, Id, exception);
            }
        }
    }

    /// <summary>Heartbeat, upgrade timeout and drain deadline; called by the server's shared timer.</summary>
    internal void Tick(long now)
    {
        // Most scans find nothing due: they skip the lock. A stale read only leaves the work to the next scan.
        if (Volatile.Read(ref _pongDeadline) == 0 && now < Volatile.Read(ref _nextPingAt) && Volatile.Read(ref _probe) is null
            && !_closed)
        {
            return;
        }

        var timedOut = false;
        var removeDrained = false;
        WebSocketTransport? abandoned = null;
        lock (_gate)
        {
            if (_closed)
            {
                if (_draining && now >= _drainDeadline)
                {
                    _draining = false;
                    removeDrained = true;
                }
            }
            else
            {
                if (_probe is not null && now >= _upgradeDeadline)
                {
                    abandoned = _probe;
                    _probe = null;
                    _probed = false;
                }

                if (_pongDeadline != 0)
                {
                    timedOut = now >= _pongDeadline;
                }
                else if (now >= _nextPingAt)
                {
                    _queue.Add(EnginePacket.Ping);
                    _pongDeadline = now + _server.PingTimeoutTicks;
                    WakeWriterLocked();
                }
            }
        }

        if (removeDrained)
        {
            _server.Remove(this);
        }

        if (abandoned is not null)
        {
            EngineLog.UpgradeAbandoned(_server.Logger, Id, "upgrade timeout");
            abandoned.RequestClose(WebSocketFrameHeader.NormalClosure);
        }

        if (timedOut)
        {
            CloseCore("ping timeout", CloseKind.Error);
        }
    }

    // ---- long-polling ----

    internal PollStart BeginPoll(out PollWaiter? waiter, out List<EnginePacket>? batch)
    {
        waiter = null;
        batch = null;
        var removeDrained = false;
        try
        {
            lock (_gate)
            {
                if (_webSocket is not null)
                {
                    return PollStart.NotPolling;
                }

                if (_closed)
                {
                    if (!_draining)
                    {
                        return PollStart.Closed;
                    }

                    _draining = false;
                    removeDrained = true;
                    batch = TakeQueueLocked();
                    return PollStart.Write;
                }

                if (_pendingPoll is not null)
                {
                    return PollStart.Duplicate;
                }

                if (_probed)
                {
                    // Upgrading: hold packets for the WebSocket and let the client pause polling.
                    return PollStart.Noop;
                }

                if (_queue.Count != 0)
                {
                    batch = TakeQueueLocked();
                    return PollStart.Write;
                }

                waiter = new PollWaiter();
                _pendingPoll = waiter;
                _pollWoken = false;
                return PollStart.Wait;
            }
        }
        finally
        {
            if (removeDrained)
            {
                _server.Remove(this);
            }
        }
    }

    /// <summary>Called by a released GET; returns what to write, or null for a noop.</summary>
    internal List<EnginePacket>? CompletePoll(PollWaiter waiter, PollSignal signal)
    {
        lock (_gate)
        {
            if (_pendingPoll == waiter)
            {
                _pendingPoll = null;
                _pollWoken = false;
            }

            if (signal == PollSignal.Noop || _queue.Count == 0)
            {
                return null;
            }

            return TakeQueueLocked();
        }
    }

    /// <summary>The client went away while its GET was parked.</summary>
    internal void AbortPoll(PollWaiter waiter)
    {
        lock (_gate)
        {
            if (_pendingPoll != waiter)
            {
                return;
            }

            _pendingPoll = null;
            _pollWoken = false;
        }

        CloseCore("transport error", CloseKind.Error);
    }

    internal void ReturnBatch(List<EnginePacket> batch)
    {
        batch.Clear();
        lock (_gate)
        {
            _spare ??= batch;
        }
    }

    internal bool TryBeginPost()
    {
        lock (_gate)
        {
            if (_postPending)
            {
                return false;
            }

            _postPending = true;
            return true;
        }
    }

    internal void EndPost()
    {
        lock (_gate)
        {
            _postPending = false;
        }
    }

    // ---- WebSocket ----

    /// <summary>Reserves the session for a probing WebSocket; false when it is upgraded, upgrading or closed.</summary>
    internal bool TryBeginUpgrade(WebSocketTransport probe)
    {
        lock (_gate)
        {
            if (_closed || _webSocket is not null || _probe is not null)
            {
                return false;
            }

            _probe = probe;
            _probed = false;
            _upgradeDeadline = _server.Time.GetTimestamp() + _server.UpgradeTimeoutTicks;
            return true;
        }
    }

    internal void AbandonUpgrade(WebSocketTransport probe, string why)
    {
        lock (_gate)
        {
            if (_probe != probe)
            {
                return;
            }

            _probe = null;
            _probed = false;
        }

        EngineLog.UpgradeAbandoned(_server.Logger, Id, why);
    }

    internal ProbeResult ReceiveProbePacket(WebSocketTransport probe, ReadOnlySpan<byte> packet, bool isBinary)
    {
        lock (_gate)
        {
            if (_closed || _probe != probe)
            {
                return ProbeResult.Abandon;
            }

            if (!isBinary && packet.SequenceEqual("2probe"u8))
            {
                _probed = true;
                ReleasePollWithNoopLocked();
                probe.EnqueueFrame(ProbePong.WebSocketFrame);
                return ProbeResult.Continue;
            }

            if (!isBinary && packet.SequenceEqual("5"u8))
            {
                _probe = null;
                _probed = false;
                ReleasePollWithNoopLocked();
                _webSocket = probe;
                Volatile.Write(ref _transportName, "websocket");
                probe.Attach(this);
                probe.Signal();
            }
            else
            {
                _probe = null;
                _probed = false;
                return ProbeResult.Abandon;
            }
        }

        _server.Metrics.Upgrades.Add(1);
        EngineLog.Upgraded(_server.Logger, Id);
        return ProbeResult.Upgraded;
    }

    /// <summary>The WebSocket writer takes everything queued; <paramref name="batch"/> must be empty and is swapped.</summary>
    internal void TakeQueued(ref List<EnginePacket> batch)
    {
        lock (_gate)
        {
            if (_queue.Count == 0)
            {
                return;
            }

            (batch, _queue) = (_queue, batch);
        }
    }

    /// <summary>The session's WebSocket ended by itself (not because the session closed it).</summary>
    internal void OnTransportEnded(WebSocketTransport webSocket, string reason, CloseKind kind)
    {
        lock (_gate)
        {
            if (_webSocket != webSocket)
            {
                return;
            }
        }

        CloseCore(reason, kind);
    }

    // ---- receive path ----

    /// <summary>One Engine.IO packet from either transport. Closes the session on a close packet or a parse error.</summary>
    internal PacketResult ReceivePacket(in ReadOnlySequence<byte> packet, bool isBinary, bool fromPolling)
    {
        if (_closed)
        {
            return PacketResult.Closed;
        }

        _server.Metrics.PacketsReceived.Add(1);
        if (isBinary)
        {
            Deliver(packet, isBinary: true);
            return PacketResult.Continue;
        }

        var reader = new SequenceReader<byte>(packet);
        if (!reader.TryRead(out var type))
        {
            return ParseError();
        }

        switch (type)
        {
            case (byte)'4':
                Deliver(packet.Slice(1), isBinary: false);
                return PacketResult.Continue;
            case (byte)'3':
                OnPong();
                return PacketResult.Continue;
            case (byte)'2':
                // Clients ping only to probe; answer in kind so a probe on an established WebSocket is harmless.
                Send([packet.Length == 6 && reader.IsNext("probe"u8) ? ProbePong : EnginePacket.Pong]);
                return PacketResult.Continue;
            case (byte)'1':
                CloseCore("transport close", CloseKind.ClientClosed);
                return PacketResult.Closed;
            case (byte)'5':
            case (byte)'6':
                return PacketResult.Continue;
            case (byte)'b' when fromPolling:
                return DeliverBase64(packet.Slice(1)) ? PacketResult.Continue : ParseError();
            default:
                return ParseError();
        }
    }

    private PacketResult ParseError()
    {
        CloseCore("parse error", CloseKind.Error);
        return PacketResult.ParseError;
    }

    private bool DeliverBase64(in ReadOnlySequence<byte> base64)
    {
        var length = (int)base64.Length;
        byte[]? copy = null;
        var decoded = ArrayPool<byte>.Shared.Rent(Base64.GetMaxDecodedFromUtf8Length(length));
        try
        {
            ReadOnlySpan<byte> source;
            if (base64.IsSingleSegment)
            {
                source = base64.FirstSpan;
            }
            else
            {
                copy = ArrayPool<byte>.Shared.Rent(length);
                base64.CopyTo(copy);
                source = copy.AsSpan(0, length);
            }

            if (Base64.DecodeFromUtf8(source, decoded, out _, out var written) != OperationStatus.Done)
            {
                return false;
            }

            Deliver(new ReadOnlySequence<byte>(decoded, 0, written), isBinary: true);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(decoded);
            if (copy is not null)
            {
                ArrayPool<byte>.Shared.Return(copy);
            }
        }
    }

    private void Deliver(in ReadOnlySequence<byte> data, bool isBinary)
    {
        lock (_receiveGate)
        {
            if (_closed)
            {
                return;
            }

            try
            {
                _server.Handler.OnMessage(this, data, isBinary);
            }
            catch (Exception exception)
            {
                EngineLog.HandlerError(_server.Logger, Id, exception);
            }
        }
    }

    private void OnPong()
    {
        var now = _server.Time.GetTimestamp();
        lock (_gate)
        {
            _pongDeadline = 0;
            _nextPingAt = now + _server.PingIntervalTicks;
        }
    }

    private List<EnginePacket> TakeQueueLocked()
    {
        var batch = _queue;
        _queue = _spare ?? [];
        _spare = null;
        return batch;
    }

    private void WakeWriterLocked()
    {
        if (_webSocket is not null)
        {
            _webSocket.Signal();
        }
        else if (_pendingPoll is not null && !_pollWoken && !_probed)
        {
            _pollWoken = true;
            _pendingPoll.TrySetResult(PollSignal.Data);
        }
    }

    private void ReleasePollWithNoopLocked()
    {
        if (_pendingPoll is not null && !_pollWoken)
        {
            _pollWoken = true;
            _pendingPoll.TrySetResult(PollSignal.Noop);
        }
    }
}
