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

    /// <summary>
    /// The client does not read what it is sent: queued packets are dropped, and a WebSocket is aborted without a close
    /// frame (which would wait behind what the client does not read), as a close that outlives its deadline is.
    /// </summary>
    Dropped,
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

    /// <summary>The client closed the session.</summary>
    Closed,

    /// <summary>The packet was malformed or not allowed (a parse error, a ping from the client): the session is closed.</summary>
    Invalid,
}

/// <summary>A GET parked until there is something to answer it with.</summary>
internal sealed class PollWaiter() : TaskCompletionSource<PollSignal>(TaskCreationOptions.RunContinuationsAsynchronously);

/// <summary>
/// One Engine.IO session: its outgoing queue, the long-polling GET parked on it, its transport, and the receive path.
/// Outgoing packets are queued under <see cref="Gate"/> and taken in batches by whichever transport writes (the
/// WebSocket writer loop, or the next polling GET). Handler calls are serialized by a second lock so the layer above
/// sees one call at a time, in order; <see cref="Gate"/> is never held while calling it. The heartbeat
/// (<see cref="EngineHeartbeat"/>) and an upgrade (<see cref="EngineUpgrade"/>) are state machines of their own.
/// </summary>
internal sealed class EngineSession : IEngineConnection
{
    private readonly EngineServer _server;
    private readonly Lock _gate = new();
    private readonly Lock _receiveGate = new();
    private readonly EngineHeartbeat _heartbeat;

    private List<EnginePacket> _queue = [];
    private List<EnginePacket>? _spare;

    // Bytes waiting to be sent (WebSocket frame sizes of shared packets, not copies): queued, taken by a polling GET
    // or by the WebSocket writer and not yet written. Bounded by MaxSendBufferSize plus one send. The control replies
    // of the WebSocket and of an upgrade's probe (pong, 3probe) count too, read from the transports.
    private long _queuedBytes;
    private long _pollingBytes;
    private long _socketBytes;

    private PollWaiter? _pendingPoll;
    private bool _pollWoken;
    private bool _postPending;

    private WebSocketTransport? _webSocket;
    private EngineUpgrade? _upgrade;

    private volatile bool _closed;
    private DrainDeadline? _drain;
    private string _transportName;

    public EngineSession(EngineServer server, string id, EngineRequest request, WebSocketTransport? webSocket, EnginePacket? first, EngineProtocol protocol = EngineProtocol.V4, bool binaryPolling = false)
    {
        _server = server;
        Id = id;
        Request = request;
        Protocol = protocol;
        BinaryPolling = binaryPolling;
        _webSocket = webSocket;
        _transportName = webSocket is null ? "polling" : "websocket";
        if (first is not null)
        {
            _queue.Add(first);
            _queuedBytes = first.WebSocketFrame.Length;
        }

        _heartbeat = new EngineHeartbeat(this, server.Timers, server.Options.PingInterval, server.Options.PingTimeout, clientPings: protocol == EngineProtocol.V3);
    }

    public string Id { get; }

    public EngineProtocol Protocol { get; }

    /// <summary>
    /// Engine.IO v3 only: the client reads binary long-polling payloads (XHR2, as in browsers), so a payload that holds
    /// binary packets is sent in the binary framing; false when it asked for base64 (<c>b64=1</c>, as in Node.js).
    /// </summary>
    internal bool BinaryPolling { get; }

    public EngineRequest Request { get; }

    public string TransportName => Volatile.Read(ref _transportName);

    internal bool IsClosed => _closed;

    internal EngineServer Server => _server;

    /// <summary>Guards the queue, the transports, polling and the upgrade state.</summary>
    internal Lock Gate => _gate;

    private bool IsProbed => _upgrade is { IsProbed: true };

    /// <summary>Bytes queued or being written, control replies (pongs, an upgrade's 3probe) included.</summary>
    internal long PendingBytes
    {
        get
        {
            lock (_gate)
            {
                return PendingBytesLocked;
            }
        }
    }

    private long PendingBytesLocked =>
        _queuedBytes + _pollingBytes + _socketBytes + (_webSocket?.PendingControlBytes ?? 0) + (_upgrade?.Probe?.PendingControlBytes ?? 0);

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

        var size = SizeOf(packets);
        long pending;
        lock (_gate)
        {
            if (_closed)
            {
                return false;
            }

            // A send always fits in an empty buffer, so the buffer never holds more than the limit plus one send.
            pending = PendingBytesLocked;
            if (pending == 0 || pending + size <= _server.Options.MaxSendBufferSize)
            {
                foreach (var packet in packets)
                {
                    _queue.Add(packet);
                }

                _queuedBytes += size;
                WakeWriterLocked();
                return true;
            }
        }

        CloseOnFullBuffer(pending + size);
        return false;
    }

    public bool TrySendVolatile(ReadOnlySpan<EnginePacket> packets)
    {
        if (packets.IsEmpty)
        {
            return !_closed;
        }

        var size = SizeOf(packets);
        lock (_gate)
        {
            if (_closed)
            {
                return false;
            }

            // Dropped unless the transport takes it now, and long before it could fill the buffer.
            if (PendingBytesLocked + size > _server.Options.MaxSendBufferSize / 2)
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
            else if (_pendingPoll is null || _pollWoken || IsProbed)
            {
                return false;
            }

            foreach (var packet in packets)
            {
                _queue.Add(packet);
            }

            _queuedBytes += size;
            WakeWriterLocked();
        }

        return true;
    }

    /// <summary>
    /// Whether a control reply written outside the queue (the <c>3probe</c> of an upgrade) fits; when it does not, the
    /// caller closes the session. Under <see cref="Gate"/>; the transport counts the reply while it waits.
    /// </summary>
    internal bool FitsLocked(long size)
    {
        var pending = PendingBytesLocked;
        return pending == 0 || pending + size <= _server.Options.MaxSendBufferSize;
    }

    /// <summary>The client does not read what it is sent: close the session and let go of what waits for it.</summary>
    internal void CloseOnFullBuffer(long wouldBe)
    {
        if (_closed)
        {
            return;
        }

        _server.Metrics.SendBufferOverflows.Add(1);
        EngineLog.SendBufferFull(_server.Logger, Id, wouldBe, _server.Options.MaxSendBufferSize);
        CloseCore(SendBufferFullReason, CloseKind.Dropped);
    }

    /// <summary>The reason a session closed by <see cref="CloseOnFullBuffer"/> is given.</summary>
    internal const string SendBufferFullReason = "send buffer full";

    private static long SizeOf(ReadOnlySpan<EnginePacket> packets)
    {
        long size = 0;
        foreach (var packet in packets)
        {
            size += packet.WebSocketFrame.Length;
        }

        return size;
    }

    public void Close() => CloseCore("forced close", CloseKind.Forced);

    internal void Open()
    {
        _heartbeat.Start(_server.Time.GetTimestamp());
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
                _queuedBytes = 0;
            }

            if (kind == CloseKind.Dropped && _webSocket is not null)
            {
                // What the WebSocket writer took goes with the aborted connection.
                Volatile.Write(ref _socketBytes, 0);
            }

            webSocket = _webSocket;

            // A client that got its 3probe has paused polling until the upgrade is done: closing the probe now would
            // leave it waiting for a close it never sees (until its own ping timeout). The close goes out over the
            // WebSocket once the client completes the upgrade (or the probe is given up at its timeout).
            probe = kind == CloseKind.Forced && IsProbed ? null : _upgrade?.EndLocked();
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
                    _queuedBytes += EnginePacket.Close.WebSocketFrame.Length;
                    if (_pendingPoll is not null && !_pollWoken)
                    {
                        _pollWoken = true;
                        _pendingPoll.TrySetResult(PollSignal.Data);
                    }
                    else if (_pendingPoll is null && kind == CloseKind.Forced)
                    {
                        // Keep the sid a little so the client's next GET collects the queue and the close packet.
                        _drain = new DrainDeadline(this);
                        _server.Timers.Schedule(_drain, _server.Timers.After(_server.Time.GetTimestamp(), _server.Options.PingInterval + _server.Options.PingTimeout));
                    }
                }
            }

            remove = _drain is null;
        }

        _heartbeat.Stop();
        if (remove)
        {
            _server.Remove(this);
        }

        if (kind == CloseKind.Dropped)
        {
            webSocket?.Abort();
        }
        else
        {
            webSocket?.RequestClose(WebSocketFrameHeader.NormalClosure);
        }

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

    /// <summary>
    /// Closes the session with <c>ping timeout</c> if its heartbeat deadline has passed, swept by the wheel or not (the
    /// wheel runs a deadline up to a tick late); returns whether it did. Called where a client meets the session.
    /// </summary>
    internal bool CloseIfOverdue()
    {
        if (!_heartbeat.TryExpire(_server.Time.GetTimestamp()))
        {
            return false;
        }

        CloseCore("ping timeout", CloseKind.Error);
        return true;
    }

    /// <summary>The drain of a closed polling session ended without a GET collecting it: the sid is freed.</summary>
    private void EndDrain(DrainDeadline drain)
    {
        lock (_gate)
        {
            if (_drain != drain)
            {
                return;
            }

            _drain = null;
        }

        _server.Remove(this);
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
                    if (_drain is null)
                    {
                        return PollStart.Closed;
                    }

                    _server.Timers.Cancel(_drain);
                    _drain = null;
                    removeDrained = true;
                    batch = TakeQueueLocked();
                    return PollStart.Write;
                }

                if (_pendingPoll is not null)
                {
                    return PollStart.Duplicate;
                }

                if (IsProbed)
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

            if (waiter is not null)
            {
                _server.PollParked?.Invoke(this);
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

    /// <summary>A polling GET wrote <paramref name="batch"/> (or gave up): its bytes no longer wait.</summary>
    internal void ReturnBatch(List<EnginePacket> batch)
    {
        batch.Clear();
        lock (_gate)
        {
            _pollingBytes = 0;
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
            if (_closed || _webSocket is not null)
            {
                return false;
            }

            _upgrade ??= new EngineUpgrade(this, _server.Timers, _server.Options.UpgradeTimeout);
            return _upgrade.TryBeginLocked(probe, _server.Time.GetTimestamp());
        }
    }

    internal void AbandonUpgrade(WebSocketTransport probe, string why) => _upgrade?.Abandon(probe, why);

    internal ProbeResult ReceiveProbePacket(WebSocketTransport probe, ReadOnlySpan<byte> packet, bool isBinary) =>
        _upgrade?.Receive(probe, packet, isBinary) ?? ProbeResult.Abandon;

    /// <summary>The upgrade completed: the probe becomes the session's transport. Under <see cref="Gate"/>.</summary>
    internal void SwitchToWebSocketLocked(WebSocketTransport probe)
    {
        ReleasePollWithNoopLocked();
        _webSocket = probe;
        Volatile.Write(ref _transportName, "websocket");
        probe.Attach(this);
        if (_closed)
        {
            // Closed by the server while the client finished its upgrade: what was queued, the close packet last,
            // goes out on the WebSocket, then the close frame.
            probe.RequestClose(WebSocketFrameHeader.NormalClosure);
            if (_drain is not null)
            {
                _server.Timers.Cancel(_drain);
                _drain = null;
                _server.Remove(this);
            }
        }

        probe.Signal();
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
            _socketBytes += _queuedBytes;
            _queuedBytes = 0;
        }
    }

    /// <summary>The WebSocket writer flushed what it took: those bytes no longer wait.</summary>
    internal void OnSocketWritten() =>
        // Only the writer loop changes this field (here and in TakeQueued); readers hold the lock.
        Volatile.Write(ref _socketBytes, 0);

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
        _server.Activity?.Received((int)packet.Length);
        if (isBinary)
        {
            if (Protocol == EngineProtocol.V3)
            {
                // Engine.IO v3 puts the packet type in front of binary data; only a message carries any.
                if (packet.IsEmpty || packet.FirstSpan[0] != (byte)'4' - (byte)'0')
                {
                    return ParseError();
                }

                Deliver(packet.Slice(1), isBinary: true);
                return PacketResult.Continue;
            }

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
            case (byte)'3' when Protocol == EngineProtocol.V3:
            case (byte)'2' when Protocol == EngineProtocol.V4:
                // Heartbeats go one way only (v4: the server pings; v3: the client pings): a packet the other way closes
                // the session, as the reference server does ("invalid heartbeat direction"). In v4 this includes a
                // probe outside an upgrade.
                EngineLog.InvalidHeartbeatDirection(_server.Logger, Id);
                CloseCore("transport error", CloseKind.Error);
                return PacketResult.Invalid;
            case (byte)'3':
                // Counts only as the answer to an outstanding ping, and only in time.
                if (CloseIfOverdue())
                {
                    return PacketResult.Closed;
                }

                _heartbeat.OnPong(_server.Time.GetTimestamp());
                return PacketResult.Continue;
            case (byte)'2':
                // An Engine.IO v3 client pings; the pong carries the ping's data back.
                if (CloseIfOverdue())
                {
                    return PacketResult.Closed;
                }

                _heartbeat.OnClientPing(_server.Time.GetTimestamp());
                Send([packet.Length == 1 ? EnginePacket.Pong : EnginePacket.FromText(PongOf(packet))]);
                return PacketResult.Continue;
            case (byte)'1':
                CloseCore("transport close", CloseKind.ClientClosed);
                return PacketResult.Closed;
            case (byte)'5':
            case (byte)'6':
                return PacketResult.Continue;
            case (byte)'b' when fromPolling && Protocol == EngineProtocol.V3:
                // b4<base64>: the packet type follows the b, and only a message carries binary data.
                return reader.IsNext((byte)'4', advancePast: true) && DeliverBase64(packet.Slice(2)) ? PacketResult.Continue : ParseError();
            case (byte)'b' when fromPolling:
                return DeliverBase64(packet.Slice(1)) ? PacketResult.Continue : ParseError();
            default:
                return ParseError();
        }
    }

    private static byte[] PongOf(in ReadOnlySequence<byte> ping)
    {
        var pong = ping.ToArray();
        pong[0] = (byte)'3';
        return pong;
    }

    /// <summary>Input that is not Engine.IO (a packet, or a payload's framing) closes the session with <c>parse error</c>.</summary>
    internal PacketResult ParseError()
    {
        CloseCore("parse error", CloseKind.Error);
        return PacketResult.Invalid;
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

    /// <summary>A polling GET takes the queue; its bytes wait until <see cref="ReturnBatch"/>.</summary>
    private List<EnginePacket> TakeQueueLocked()
    {
        var batch = _queue;
        _queue = _spare ?? [];
        _spare = null;
        _pollingBytes += _queuedBytes;
        _queuedBytes = 0;
        return batch;
    }

    private void WakeWriterLocked()
    {
        if (_webSocket is not null)
        {
            _webSocket.Signal();
        }
        else if (_pendingPoll is not null && !_pollWoken && !IsProbed)
        {
            _pollWoken = true;
            _pendingPoll.TrySetResult(PollSignal.Data);
        }
    }

    /// <summary>Answers a parked GET with a noop (the client pauses polling for an upgrade, or closed). Under <see cref="Gate"/>.</summary>
    internal void ReleasePollWithNoopLocked()
    {
        if (_pendingPoll is not null && !_pollWoken)
        {
            _pollWoken = true;
            _pendingPoll.TrySetResult(PollSignal.Noop);
        }
    }

    /// <summary>How long a closed polling session keeps its sid for the GET that collects its last packets.</summary>
    private sealed class DrainDeadline(EngineSession session) : TimerWheelEntry
    {
        internal override void OnDue(long tickTime) => session.EndDrain(this);
    }
}
