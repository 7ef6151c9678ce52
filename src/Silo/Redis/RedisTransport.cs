using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace OrleansRooms.Silo.Redis;

/// <summary>A command waiting for its reply; the task completes on the read loop's reply, or fails when the connection drops.</summary>
internal sealed class PendingCommand(RedisCommand command, byte[]? ackKind)
    : TaskCompletionSource<RedisReply>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    public RedisCommand Command { get; } = command;

    /// <summary>For the subscribe family on a pub/sub connection: the push kind (<c>subscribe</c>, ...) that answers it.</summary>
    public byte[]? AckKind { get; } = ackKind;

    private volatile bool _abandoned;

    /// <summary>The caller gave up (timeout, cancellation): its reply, when it comes, is still consumed in order and dropped.</summary>
    public void Abandon() => _abandoned = true;

    public bool IsAbandoned => _abandoned;

    public void Fail(Exception error)
    {
        // Nobody awaits an abandoned command: cancel it rather than leave an unobserved exception behind.
        if (_abandoned)
        {
            TrySetCanceled();
        }
        else
        {
            TrySetException(error);
        }
    }
}

/// <summary>
/// One TCP connection to Redis: a writer loop drains the outgoing queue and flushes once per batch (so concurrent callers
/// share round trips), a reader loop parses replies and matches them FIFO to the commands written. On a pub/sub
/// connection, pushes (<c>message</c>, <c>pmessage</c>, <c>smessage</c>, unsolicited unsubscribes) go to the push callback.
/// Once closed it stays closed: <see cref="RedisConnection"/> opens a new one.
/// </summary>
internal sealed class RedisTransport
{
    private const int FlushThreshold = 64 * 1024;

    private readonly Socket _socket;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly Channel<PendingCommand> _outgoing = Channel.CreateUnbounded<PendingCommand>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
    private readonly ConcurrentQueue<PendingCommand> _pending = new();
    private readonly Action<RedisReply>? _onPush;
    private readonly TaskCompletionSource<Exception?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _readLoop = Task.CompletedTask;
    private Task _writeLoop = Task.CompletedTask;
    private int _isClosed;

    private RedisTransport(Socket socket, string endpoint, Action<RedisReply>? onPush)
    {
        _socket = socket;
        Endpoint = endpoint;
        _onPush = onPush;
        var stream = new NetworkStream(socket, ownsSocket: true);
        _input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024));
        _output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024));
    }

    public string Endpoint { get; }

    public bool IsOpen => Volatile.Read(ref _isClosed) == 0;

    /// <summary>Completes (with the reason, or null when closed on purpose) once every pending command has been failed.</summary>
    public Task<Exception?> Closed => _closed.Task;

    public static async Task<RedisTransport> ConnectAsync(string endpoint, Action<RedisReply>? onPush, CancellationToken cancellationToken)
    {
        var (host, port) = ParseEndpoint(endpoint);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(IPAddress.TryParse(host, out var address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port), cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var transport = new RedisTransport(socket, endpoint, onPush);
        transport._readLoop = transport.ReadLoopAsync();
        transport._writeLoop = transport.WriteLoopAsync();
        return transport;
    }

    public static (string Host, int Port) ParseEndpoint(string endpoint)
    {
        int colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(endpoint.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture, out int port))
        {
            return (endpoint, 6379);
        }

        return (endpoint[..colon].Trim('[', ']'), port);
    }

    public bool TryEnqueue(PendingCommand command) => IsOpen && _outgoing.Writer.TryWrite(command);

    public void Abort(Exception? reason)
    {
        if (Interlocked.Exchange(ref _isClosed, 1) != 0)
        {
            return;
        }

        _outgoing.Writer.TryComplete();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        _socket.Dispose();
        _input.CancelPendingRead();
        _output.CancelPendingFlush();
        _ = FinishAsync(reason);
    }

    private async Task FinishAsync(Exception? reason)
    {
        try
        {
            await Task.WhenAll(_readLoop, _writeLoop);
        }
        catch (Exception)
        {
            // The loops catch their own errors; nothing is left to observe here.
        }

        var error = new RedisConnectionException(
            reason is null ? $"The connection to Redis at {Endpoint} was closed." : $"The connection to Redis at {Endpoint} was lost: {reason.Message}",
            reason ?? new IOException("closed"));
        while (_pending.TryDequeue(out var pending))
        {
            pending.Fail(error);
        }

        while (_outgoing.Reader.TryRead(out var queued))
        {
            queued.Fail(error);
        }

        await _input.CompleteAsync();
        await _output.CompleteAsync();
        _closed.TrySetResult(reason);
    }

    private async Task WriteLoopAsync()
    {
        Exception? error = null;
        try
        {
            var reader = _outgoing.Reader;
            while (await reader.WaitToReadAsync())
            {
                // Take everything queued since the last flush: one write and one flush serve every waiting caller.
                while (IsOpen && reader.TryRead(out var command))
                {
                    if (command.IsAbandoned)
                    {
                        command.TrySetCanceled();
                        continue;
                    }

                    // Enqueue before writing: the reply can only come after the bytes leave, so the read loop always finds it.
                    _pending.Enqueue(command);
                    command.Command.WriteTo(_output);
                    if (_output.CanGetUnflushedBytes && _output.UnflushedBytes >= FlushThreshold)
                    {
                        break;
                    }
                }

                if (!IsOpen)
                {
                    break;
                }

                var result = await _output.FlushAsync();
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            error = ex;
        }

        Abort(error);
    }

    private async Task ReadLoopAsync()
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await _input.ReadAsync();
                var buffer = result.Buffer;
                var reader = new SequenceReader<byte>(buffer);
                while (RedisReplyParser.TryRead(ref reader, out var reply))
                {
                    OnReply(reply);
                }

                // Everything was examined: wait for more bytes before parsing the incomplete tail again.
                _input.AdvanceTo(reader.Position, buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    error = result.IsCanceled ? null : new IOException("Redis closed the connection.");
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            error = ex;
        }

        Abort(error);
    }

    private void OnReply(in RedisReply reply)
    {
        if (_onPush is not null && reply.Type == RedisReplyType.Array && reply.AsArray() is { Length: >= 3 } items)
        {
            var kind = items[0];
            if (kind.EqualsAscii("message"u8) || kind.EqualsAscii("smessage"u8) || (items.Length == 4 && kind.EqualsAscii("pmessage"u8)))
            {
                _onPush(reply);
                return;
            }

            if (IsAcknowledgement(kind))
            {
                if (_pending.TryPeek(out var head) && head.AckKind is { } ack && kind.EqualsAscii(ack)
                    && items[1].Type == RedisReplyType.BulkString && head.Command.ArgumentCount > 0
                    && head.Command.GetArgument(0).Span.SequenceEqual(items[1].AsBytes()))
                {
                    _pending.TryDequeue(out _);
                    head.TrySetResult(reply);
                }
                else
                {
                    // Not asked for: the server dropped a subscription by itself (a shard channel's slot moved away).
                    _onPush(reply);
                }

                return;
            }
        }

        if (!_pending.TryDequeue(out var pending))
        {
            throw new RedisProtocolException($"Redis sent a reply ({reply}) with no command waiting for it.");
        }

        pending.TrySetResult(reply);
    }

    private static bool IsAcknowledgement(in RedisReply kind) =>
        kind.EqualsAscii("subscribe"u8) || kind.EqualsAscii("unsubscribe"u8)
        || kind.EqualsAscii("psubscribe"u8) || kind.EqualsAscii("punsubscribe"u8)
        || kind.EqualsAscii("ssubscribe"u8) || kind.EqualsAscii("sunsubscribe"u8);
}
