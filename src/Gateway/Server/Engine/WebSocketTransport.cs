using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using System.Threading.Tasks.Sources;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace OrleansRooms.Engine;

/// <summary>
/// A server-side RFC 6455 connection over the stream of an HTTP/1.1 upgrade. One reader loop parses frames from a
/// zero-byte-read pipe (an idle connection holds no receive buffer); one writer loop drains the session's queue and
/// this transport's control frames, writes the pre-framed bytes unchanged and flushes once per batch.
/// </summary>
internal sealed class WebSocketTransport : IValueTaskSource
{
    // _wakeState: nothing to do, work signaled but not yet taken, or the writer loop waiting for work.
    private const int Idle = 0;
    private const int Signaled = 1;
    private const int Waiting = 2;

    private static readonly TimeSpan CloseLinger = TimeSpan.FromSeconds(1);

    /// <summary>How long a close may take, from its request to the end of the connection.</summary>
    internal static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private static readonly byte[] EmptyCloseFrame = WebSocketFrameHeader.BuildControlFrame(WebSocketOpcode.Close, []);

    private readonly EngineServer _server;
    private readonly Lock _gate = new();

    // The writer loop's wake-up: one waiter, reset for every wait, so an idle connection holds no channel or queue.
    private ManualResetValueTaskSourceCore<bool> _wakeCore = new() { RunContinuationsAsynchronously = true };
    private int _wakeState;

    // Control replies, one slot each so that no client can queue them: RFC 6455 §5.5.3 lets a pong answer only the
    // latest ping, so a newer ping overwrites the pending pong; the probe answer is a fixed frame. The pong frame's
    // buffer is allocated at the first ping.
    private byte[]? _pong;
    private int _pongLength;
    private ReadOnlyMemory<byte> _reply;

    // Bytes of control replies the writer took and has not flushed yet, and (read without the lock by the session's
    // send-buffer accounting) those plus the slots': at most two replies waiting and two being written.
    private int _controlInFlight;
    private int _controlBytes;
    private bool _closeRequested;
    private ushort _closeStatus;
    private bool _abort;
    private volatile bool _closing;
    private volatile bool _attached;
    private volatile bool _isWriting;

    private EngineSession? _session;
    private bool _legacy; // an Engine.IO v3 session: binary frames carry their packet type
    private HttpContext? _context;
    private PipeReader? _input;
    private PipeWriter? _output;
    private ITimer? _linger;
    private ITimer? _closeDeadline;

    // Set under _gate once the loops are over, before the pipes complete and the request ends: the timers' callbacks
    // must no longer touch the pipes or the HttpContext (which Kestrel reuses).
    private bool _ended;

    // The end of the connection, made only when someone waits for it (a shutdown): most connections end unwatched.
    private TaskCompletionSource? _completion;
    private bool _completed;

    // Reassembly of a fragmented message, in a pooled buffer returned as soon as the message is delivered.
    private byte[]? _message;
    private int _messageLength;
    private WebSocketOpcode _messageOpcode;
    private bool _inMessage;
    private bool _messageCompressed;
    private bool _discarding;

    // permessage-deflate, when the handshake negotiated it: the options to compress with, and the inflater of the
    // client's messages (created at its first compressed message).
    private PerMessageDeflateOptions? _deflate;
    private bool _clientNoContextTakeover;
    private MessageInflater? _inflater;

    public WebSocketTransport(EngineServer server) => _server = server;

    /// <summary>True while the writer loop is writing or flushing (a volatile packet would have to wait).</summary>
    public bool IsWriting => _isWriting;

    /// <summary>Control frames of this transport's own (pong, probe answer) waiting for the writer: at most two.</summary>
    internal int PendingControlFrames
    {
        get
        {
            lock (_gate)
            {
                return (_pongLength != 0 ? 1 : 0) + (_reply.IsEmpty ? 0 : 1);
            }
        }
    }

    /// <summary>
    /// Bytes of control replies (pong, probe answer) waiting to be sent or being written: they count in the session's
    /// send buffer like its packets. Read without this transport's lock, so the session may read it under its own.
    /// </summary>
    internal int PendingControlBytes => Volatile.Read(ref _controlBytes);

    /// <summary>Completes when the connection is over.</summary>
    public Task Completion
    {
        get
        {
            lock (_gate)
            {
                return _completed ? Task.CompletedTask : (_completion ??= new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
        }
    }

    private string SessionId => _session?.Id ?? string.Empty;

    /// <summary>
    /// The 101 handshake (RFC 6455 §4.2): the upgraded stream, or nothing sent and the refusal to answer with (an
    /// invalid request, or Kestrel's limit of upgraded connections reached). Negotiates <c>permessage-deflate</c>
    /// when the server offers it. <paramref name="addHeaders"/> runs on a valid request just before the 101 is sent, to
    /// add the application's response headers.
    /// </summary>
    public async Task<(Stream? Stream, EngineError? Refusal)> AcceptAsync(HttpContext context, Action<HttpContext>? addHeaders = null)
    {
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        var headers = context.Request.Headers;
        var key = headers.SecWebSocketKey.ToString();
        if (upgrade is null || !upgrade.IsUpgradableRequest || headers.SecWebSocketVersion != "13" || !IsValidKey(key))
        {
            return (null, EngineErrors.BadRequest);
        }

        var response = context.Response;
        response.Headers.Connection = "Upgrade";
        response.Headers.Upgrade = "websocket";
        response.Headers.SecWebSocketAccept = ComputeAccept(key);
        if (_server.Options.PerMessageDeflate is { } deflate
            && PerMessageDeflateNegotiation.TryAccept(headers.SecWebSocketExtensions, deflate, out var extension, out var clientNoContextTakeover))
        {
            response.Headers.SecWebSocketExtensions = extension;
            _deflate = deflate;
            _clientNoContextTakeover = clientNoContextTakeover;
        }

        // An upgraded connection is long-lived and idle at times: body limits and minimum data rates do not apply.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } maxBody)
        {
            maxBody.MaxRequestBodySize = null;
        }

        if (context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } minRate)
        {
            minRate.MinDataRate = null;
        }

        addHeaders?.Invoke(context);
        try
        {
            return (await upgrade.UpgradeAsync(), null);
        }
        catch (InvalidOperationException) when (!response.HasStarted)
        {
            // Kestrel refuses the upgrade above MaxConcurrentUpgradedConnections, before anything was sent.
            response.Headers.Connection = default;
            response.Headers.Upgrade = default;
            response.Headers.SecWebSocketAccept = default;
            response.Headers.SecWebSocketExtensions = default;
            _deflate = null;
            return (null, EngineErrors.ConnectionLimitReached);
        }
    }

    /// <summary>Whether the request asks for a WebSocket (method, Connection and Upgrade headers).</summary>
    public static bool IsUpgradeRequest(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsGet(request.Method))
        {
            return false;
        }

        var upgrade = request.Headers.Upgrade;
        for (var i = 0; i < upgrade.Count; i++)
        {
            if (string.Equals(upgrade[i], "websocket", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsValidKey(string key)
    {
        Span<byte> decoded = stackalloc byte[24];
        return key.Length == 24 && Convert.TryFromBase64String(key, decoded, out var written) && written == 16;
    }

    private static string ComputeAccept(string key)
    {
        Span<byte> input = stackalloc byte[24 + 36];
        Encoding.ASCII.GetBytes(key, input);
        "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8.CopyTo(input[24..]);
        Span<byte> hash = stackalloc byte[20];
#pragma warning disable CA5350 // RFC 6455 defines the accept value with SHA-1; it is not used for security here.
        SHA1.HashData(input, hash);
#pragma warning restore CA5350
        return Convert.ToBase64String(hash);
    }

    /// <summary>From now on the writer drains the session's queue and packets go to the session.</summary>
    public void Attach(EngineSession session)
    {
        _session = session;
        _legacy = session.Protocol == EngineProtocol.V3;
        _attached = true;
    }

    /// <summary>An upgrade probe: packets go to the session's probe handling until it attaches this transport.</summary>
    public void SetProbeOf(EngineSession session)
    {
        _session = session;
        _legacy = session.Protocol == EngineProtocol.V3;
    }

    /// <summary>Wakes the writer loop; cheap and idempotent until the writer takes the work.</summary>
    public void Signal()
    {
        while (true)
        {
            switch (Volatile.Read(ref _wakeState))
            {
                case Signaled:
                    return;
                case Idle:
                    if (Interlocked.CompareExchange(ref _wakeState, Signaled, Idle) == Idle)
                    {
                        return;
                    }

                    break;
                default:
                    if (Interlocked.CompareExchange(ref _wakeState, Idle, Waiting) == Waiting)
                    {
                        _wakeCore.SetResult(true);
                        return;
                    }

                    break;
            }
        }
    }

    /// <summary>Completes at once if work was signaled since the last wait, else at the next <see cref="Signal"/>. Writer loop only.</summary>
    private ValueTask WaitForWorkAsync()
    {
        if (Interlocked.CompareExchange(ref _wakeState, Idle, Signaled) == Signaled)
        {
            return ValueTask.CompletedTask;
        }

        _wakeCore.Reset();
        if (Interlocked.CompareExchange(ref _wakeState, Waiting, Idle) == Signaled)
        {
            Volatile.Write(ref _wakeState, Idle);
            return ValueTask.CompletedTask;
        }

        return new ValueTask(this, _wakeCore.Version);
    }

    void IValueTaskSource.GetResult(short token) => _wakeCore.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _wakeCore.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _wakeCore.OnCompleted(continuation, state, token, flags);

    /// <summary>
    /// Queues a reply of this transport's own (the probe answer) ahead of the session's packets. One slot: a reply
    /// queued before the previous one is written replaces it, so a client repeating its probe cannot grow a queue.
    /// </summary>
    public void EnqueueFrame(ReadOnlyMemory<byte> frame)
    {
        lock (_gate)
        {
            if (_closeRequested || _abort)
            {
                return;
            }

            _reply = frame;
            UpdateControlBytesLocked();
        }

        Signal();
    }

    /// <summary>Answers a ping: the pong not yet written, if any, now carries this payload instead.</summary>
    private void QueuePong(in ReadOnlySequence<byte> payload, int maskKey)
    {
        lock (_gate)
        {
            if (_closeRequested || _abort)
            {
                return;
            }

            _pong ??= new byte[2 + WebSocketFrameHeader.MaxControlPayload];
            var length = (int)payload.Length;
            _pong[0] = 0x80 | (byte)WebSocketOpcode.Pong;
            _pong[1] = (byte)length;
            var data = _pong.AsSpan(2, length);
            payload.CopyTo(data);
            WebSocketFrameHeader.Unmask(data, maskKey);
            _pongLength = 2 + length;
            UpdateControlBytesLocked();
        }

        Signal();
    }

    /// <summary>
    /// Writes what is queued, then a close frame (status 0: without a status), then waits briefly for the client's close;
    /// a close still under way after <see cref="CloseTimeout"/> aborts the connection.
    /// </summary>
    public void RequestClose(ushort status)
    {
        lock (_gate)
        {
            if (_closeRequested || _abort)
            {
                return;
            }

            _closeRequested = true;
            _closeStatus = status;

            // A client that never reads would keep the close frame (and the connection) waiting forever.
            _closeDeadline = _server.Time.CreateTimer(static state => ((WebSocketTransport)state!).OnCloseTimeout(), this, CloseTimeout, Timeout.InfiniteTimeSpan);
        }

        _closing = true;
        Signal();
    }

    /// <summary>
    /// Drops the connection without a close frame, at once: a close frame would wait behind what the client does not
    /// read (a full send buffer), or has already waited <see cref="CloseTimeout"/>. Kestrel aborts the connection, so
    /// the pending read and flush end, and so do both loops; what was not written is discarded, never flushed.
    /// </summary>
    public void Abort()
    {
        lock (_gate)
        {
            AbortLocked();
        }

        Signal();
    }

    private void AbortLocked()
    {
        if (_ended)
        {
            return;
        }

        _abort = true;
        _closing = true;
        _pongLength = 0;
        _reply = default;
        _controlInFlight = 0;
        UpdateControlBytesLocked();

        // Before RunAsync there is no connection to drop yet: RunAsync drops it as soon as it has it.
        _context?.Abort();
    }

    private void UpdateControlBytesLocked() =>
        Volatile.Write(ref _controlBytes, _pongLength + _reply.Length + _controlInFlight);

    private void OnCloseTimeout()
    {
        lock (_gate)
        {
            if (_ended)
            {
                return;
            }

            EngineLog.WebSocketProtocolError(_server.Logger, SessionId, _closeStatus, "close not completed in time, connection aborted");
            AbortLocked();
        }

        Signal();
    }

    private void OnLingerEnd()
    {
        lock (_gate)
        {
            if (!_ended)
            {
                _input!.CancelPendingRead();
            }
        }
    }

    /// <summary>Runs the connection until it is over; the request (<paramref name="context"/>) must not complete before.</summary>
    public async Task RunAsync(Stream stream, HttpContext context)
    {
        // Tracked here rather than by an async wrapper: one state machine less per connection.
        _server.Track(this, running: true);
        bool aborted;
        lock (_gate)
        {
            _context = context;
            aborted = _abort;
        }

        if (aborted)
        {
            // Aborted before it ran (a send buffer filled while the session opened): no close frame, no reading.
            context.Abort();
        }

        _input = PipeReader.Create(stream, new StreamPipeReaderOptions(_server.ReceivePool, bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true, useZeroByteReads: true));
        _output = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
        var writer = WriteLoopAsync();
        var reason = "transport close";
        var kind = CloseKind.ClientClosed;
        try
        {
            (reason, kind) = await ReadLoopAsync();
        }
        catch (Exception exception) when (IsTransportException(exception))
        {
            EngineLog.TransportError(_server.Logger, SessionId, exception);
            (reason, kind) = ("transport error", CloseKind.Error);
        }
        finally
        {
            ReleaseMessage();
            _inflater?.Dispose();
            var session = _session;
            if (session is not null)
            {
                if (_attached)
                {
                    session.OnTransportEnded(this, reason, kind);
                }
                else
                {
                    session.AbandonUpgrade(this, "probe connection ended");
                }
            }

            // A close already requested is written by the writer; anything else means the peer is gone.
            lock (_gate)
            {
                if (!_closeRequested)
                {
                    _abort = true;
                }
            }

            Signal();
            await writer;
            lock (_gate)
            {
                _ended = true;
                _context = null;
            }

            _linger?.Dispose();
            _closeDeadline?.Dispose();
            try
            {
                // Flushing what an aborted connection holds could wait forever on a client that does not read.
                await _output.CompleteAsync(_abort ? new OperationCanceledException("connection aborted") : null);
                await _input.CompleteAsync();
            }
            finally
            {
                _server.Track(this, running: false);
            }

            TaskCompletionSource? completion;
            lock (_gate)
            {
                _completed = true;
                completion = _completion;
            }

            completion?.TrySetResult();
        }
    }

    private static bool IsTransportException(Exception exception) =>
        exception is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException
            or Microsoft.AspNetCore.Connections.ConnectionResetException;

    // ---- writing ----

    private async Task WriteLoopAsync()
    {
        var output = _output!;
        var batch = new List<EnginePacket>();
        try
        {
            while (true)
            {
                await WaitForWorkAsync();

                bool close;
                ushort status;
                int controlTaken;
                _isWriting = true;
                lock (_gate)
                {
                    if (_abort)
                    {
                        return;
                    }

                    // Copied into the output here, so the slots are free again once the lock is released; their bytes
                    // still count as waiting until the flush ends.
                    controlTaken = _reply.Length + _pongLength;
                    if (!_reply.IsEmpty)
                    {
                        output.Write(_reply.Span);
                        _reply = default;
                    }

                    if (_pongLength != 0)
                    {
                        output.Write(_pong.AsSpan(0, _pongLength));
                        _pongLength = 0;
                    }

                    _controlInFlight = controlTaken;
                    close = _closeRequested;
                    status = _closeStatus;
                }

                if (_attached)
                {
                    _session!.TakeQueued(ref batch);
                }

                // A v3 session's binary frames start with their type byte: they go uncompressed (deflate is optional per message).
                if (_deflate is { } deflate && !_legacy)
                {
                    foreach (var packet in batch)
                    {
                        output.Write(packet.DeflatedFrame(deflate.Threshold, deflate.CompressionLevel).Span);
                    }
                }
                else
                {
                    foreach (var packet in batch)
                    {
                        output.Write(_legacy ? packet.LegacyWebSocketFrame.Span : packet.WebSocketFrame.Span);
                    }
                }

                if (batch.Count != 0)
                {
                    _server.Metrics.PacketsSent.Add(batch.Count);
                    _server.Activity?.Sent(batch.Count, EngineServer.SumPayloads(batch));
                }

                batch.Clear();
                if (close)
                {
                    output.Write(status == 0 ? EmptyCloseFrame : WebSocketFrameHeader.BuildCloseFrame(status));
                }

                FlushResult flush;
                try
                {
                    flush = await output.FlushAsync();
                }
                finally
                {
                    // Written, or dropped with the connection: either way these bytes no longer wait.
                    _isWriting = false;
                    OnFlushEnded(controlTaken);
                }

                if (close)
                {
                    // Give the client a moment to answer with its close frame, then stop reading.
                    _linger = _server.Time.CreateTimer(static state => ((WebSocketTransport)state!).OnLingerEnd(), this, CloseLinger, Timeout.InfiniteTimeSpan);
                    return;
                }

                if (flush.IsCompleted || flush.IsCanceled)
                {
                    return;
                }
            }
        }
        catch (Exception exception) when (IsTransportException(exception))
        {
            EngineLog.TransportError(_server.Logger, SessionId, exception);
            if (_attached)
            {
                _session!.OnTransportEnded(this, "transport error", CloseKind.Error);
            }

            _input!.CancelPendingRead();
        }
        finally
        {
            _isWriting = false;
        }
    }

    private void OnFlushEnded(int controlTaken)
    {
        if (_attached)
        {
            _session!.OnSocketWritten();
        }

        if (controlTaken != 0)
        {
            lock (_gate)
            {
                _controlInFlight = 0;
                UpdateControlBytesLocked();
            }
        }
    }

    // ---- reading ----

    private async Task<(string Reason, CloseKind Kind)> ReadLoopAsync()
    {
        var input = _input!;
        while (true)
        {
            var result = await input.ReadAsync();
            var buffer = result.Buffer;
            if (result.IsCanceled)
            {
                // Linger expired after our close, or the writer failed.
                return _closing ? ("transport close", CloseKind.ClientClosed) : ("transport error", CloseKind.Error);
            }

            if (_discarding)
            {
                input.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    return ("transport error", CloseKind.Error);
                }

                continue;
            }

            var step = ProcessFrames(buffer, out var consumed);
            if (step == ReadStep.Ended)
            {
                input.AdvanceTo(consumed);
                return ("transport close", CloseKind.ClientClosed);
            }

            if (step == ReadStep.Failed)
            {
                _discarding = true;
                input.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    return ("transport error", CloseKind.Error);
                }

                continue;
            }

            input.AdvanceTo(consumed, buffer.End);
            if (result.IsCompleted)
            {
                return ("transport close", CloseKind.ClientClosed);
            }
        }
    }

    private enum ReadStep
    {
        NeedMore,
        Ended,
        Failed,
    }

    private ReadStep ProcessFrames(in ReadOnlySequence<byte> buffer, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        consumed = buffer.Start;
        var max = _server.Options.MaxHttpBufferSize;
        while (WebSocketFrameHeader.TryRead(ref reader, out var header))
        {
            var status = header.Validate(_deflate is not null, out var why);
            if (status != 0)
            {
                return Fail(status, why);
            }

            // Compared as a difference: messageSoFar <= max always holds, while PayloadLength + messageSoFar can pass
            // long.MaxValue (a continuation claiming 2^63 - 1 bytes) and wrap to a negative sum.
            var messageSoFar = header.Opcode == WebSocketOpcode.Continuation ? _messageLength : 0;
            if (!header.IsControl && header.PayloadLength > max - messageSoFar)
            {
                return Fail(WebSocketFrameHeader.MessageTooBig, "message larger than maxPayload");
            }

            if (reader.Remaining < header.PayloadLength)
            {
                // Wait for the rest of the frame; the header is parsed again then (consumed stays before it).
                return ReadStep.NeedMore;
            }

            var payload = buffer.Slice(reader.Position, header.PayloadLength);
            reader.Advance(header.PayloadLength);
            var step = OnFrame(header, payload);
            consumed = reader.Position;
            if (step != ReadStep.NeedMore)
            {
                return step;
            }
        }

        return ReadStep.NeedMore;
    }

    private ReadStep OnFrame(in WebSocketFrameHeader header, in ReadOnlySequence<byte> payload)
    {
        switch (header.Opcode)
        {
            case WebSocketOpcode.Close:
                return OnCloseFrame(header, payload);
            case WebSocketOpcode.Ping:
                if (!_closing)
                {
                    QueuePong(payload, header.MaskKey);
                }

                return ReadStep.NeedMore;
            case WebSocketOpcode.Pong:
                return ReadStep.NeedMore;
            case WebSocketOpcode.Continuation:
                if (!_inMessage)
                {
                    return Fail(WebSocketFrameHeader.ProtocolError, "continuation without a message");
                }

                Append(payload, header.MaskKey);
                if (!header.Fin)
                {
                    return ReadStep.NeedMore;
                }

                _inMessage = false;
                try
                {
                    return _messageCompressed
                        ? DispatchCompressed(_messageOpcode, _message.AsMemory(0, _messageLength))
                        : Dispatch(_messageOpcode, _message.AsMemory(0, _messageLength));
                }
                finally
                {
                    ReleaseMessage();
                }

            default:
                if (_inMessage)
                {
                    return Fail(WebSocketFrameHeader.ProtocolError, "new message before the previous one ended");
                }

                if (!header.Fin)
                {
                    _inMessage = true;
                    _messageOpcode = header.Opcode;
                    _messageCompressed = header.IsCompressed;
                    Append(payload, header.MaskKey);
                    return ReadStep.NeedMore;
                }

                if (payload.IsSingleSegment)
                {
                    // The whole frame is buffered and consumed right after: unmask it in place in the pipe's memory.
                    var memory = MemoryMarshal.AsMemory(payload.First);
                    WebSocketFrameHeader.Unmask(memory.Span, header.MaskKey);
                    return header.IsCompressed ? DispatchCompressed(header.Opcode, memory) : Dispatch(header.Opcode, memory);
                }

                Append(payload, header.MaskKey);
                try
                {
                    return header.IsCompressed
                        ? DispatchCompressed(header.Opcode, _message.AsMemory(0, _messageLength))
                        : Dispatch(header.Opcode, _message.AsMemory(0, _messageLength));
                }
                finally
                {
                    ReleaseMessage();
                }
        }
    }

    private ReadStep OnCloseFrame(in WebSocketFrameHeader header, in ReadOnlySequence<byte> payload)
    {
        ushort status = 0;
        if (payload.Length == 1)
        {
            return Fail(WebSocketFrameHeader.ProtocolError, "close frame of one byte");
        }

        if (payload.Length >= 2)
        {
            Span<byte> data = stackalloc byte[(int)payload.Length];
            payload.CopyTo(data);
            WebSocketFrameHeader.Unmask(data, header.MaskKey);
            status = BinaryPrimitives.ReadUInt16BigEndian(data);
            if (!WebSocketFrameHeader.IsValidReceivedCloseStatus(status))
            {
                return Fail(WebSocketFrameHeader.ProtocolError, "invalid close status");
            }

            if (!Utf8.IsValid(data[2..]))
            {
                return Fail(WebSocketFrameHeader.InvalidPayloadData, "close reason not UTF-8");
            }
        }

        // Echo the status (RFC 6455 §5.5.1); a no-op when we started the close.
        RequestClose(status);
        return ReadStep.Ended;
    }

    private ReadStep Dispatch(WebSocketOpcode opcode, ReadOnlyMemory<byte> data)
    {
        if (_closing)
        {
            return ReadStep.NeedMore;
        }

        var isBinary = opcode == WebSocketOpcode.Binary;
        if (!isBinary && !Utf8.IsValid(data.Span))
        {
            return Fail(WebSocketFrameHeader.InvalidPayloadData, "text message not UTF-8");
        }

        var session = _session!;
        if (_attached)
        {
            // A close packet or parse error closes the session, which asks this transport to close.
            session.ReceivePacket(new ReadOnlySequence<byte>(data), isBinary, fromPolling: false);
            return ReadStep.NeedMore;
        }

        if (session.ReceiveProbePacket(this, data.Span, isBinary) == ProbeResult.Abandon)
        {
            EngineLog.UpgradeAbandoned(_server.Logger, session.Id, "unexpected packet while probing");
            RequestClose(WebSocketFrameHeader.NormalClosure);
        }

        return ReadStep.NeedMore;
    }

    /// <summary>A message the client compressed (RSV1): inflated within <c>maxHttpBufferSize</c>, then dispatched.</summary>
    private ReadStep DispatchCompressed(WebSocketOpcode opcode, ReadOnlyMemory<byte> compressed)
    {
        if (_closing)
        {
            return ReadStep.NeedMore;
        }

        _inflater ??= new MessageInflater(resetAfterEachMessage: _clientNoContextTakeover);
        byte[] inflated;
        int length;
        try
        {
            if (!_inflater.TryInflate(compressed, _server.Options.MaxHttpBufferSize, out inflated, out length))
            {
                return Fail(WebSocketFrameHeader.MessageTooBig, "inflated message larger than maxPayload");
            }
        }
        catch (InvalidDataException exception)
        {
            return Fail(WebSocketFrameHeader.InvalidPayloadData, "compressed message not valid deflate data: " + exception.Message);
        }

        try
        {
            return Dispatch(opcode, inflated.AsMemory(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(inflated);
        }
    }

    private ReadStep Fail(ushort status, string why)
    {
        EngineLog.WebSocketProtocolError(_server.Logger, SessionId, status, why);
        RequestClose(status);
        var session = _session;
        if (session is not null)
        {
            if (_attached)
            {
                session.OnTransportEnded(this, "transport error", CloseKind.Error);
            }
            else
            {
                session.AbandonUpgrade(this, why);
            }
        }

        return ReadStep.Failed;
    }

    private void Append(in ReadOnlySequence<byte> payload, int maskKey)
    {
        var length = (int)payload.Length;
        var needed = _messageLength + length;
        if (_message is null || _message.Length < needed)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 256));
            if (_message is not null)
            {
                _message.AsSpan(0, _messageLength).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_message);
            }

            _message = larger;
        }

        var target = _message.AsSpan(_messageLength, length);
        payload.CopyTo(target);
        WebSocketFrameHeader.Unmask(target, maskKey);
        _messageLength = needed;
    }

    private void ReleaseMessage()
    {
        if (_message is not null)
        {
            ArrayPool<byte>.Shared.Return(_message);
            _message = null;
        }

        _messageLength = 0;
        _inMessage = false;
        _messageCompressed = false;
    }
}
