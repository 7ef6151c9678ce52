using OrleansRooms.Protocol;
using OrleansRooms.Rooms;

namespace OrleansRooms;

/// <summary>Emits to one socket with flags set (<c>socket.Timeout(...)</c>, <c>socket.Volatile</c>, <c>socket.Compress(...)</c>). Immutable.</summary>
public sealed class SocketEmitter
{
    private readonly Socket _socket;
    private readonly bool _volatile;
    private readonly TimeSpan? _timeout;
    private readonly bool _uncompressed;

    internal SocketEmitter(Socket socket, bool isVolatile = false, TimeSpan? timeout = null, bool uncompressed = false)
    {
        _socket = socket;
        _volatile = isVolatile;
        _timeout = timeout;
        _uncompressed = uncompressed;
    }

    /// <summary>Emits without guarantee: dropped if the connection cannot take it right now.</summary>
    public SocketEmitter Volatile => new(_socket, true, _timeout, _uncompressed);

    /// <summary>Sets how long <see cref="EmitWithAckAsync"/> waits before it fails with <see cref="TimeoutException"/>.</summary>
    public SocketEmitter Timeout(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        return new(_socket, _volatile, timeout, _uncompressed);
    }

    /// <summary>
    /// Whether the event may be compressed (default true): with false it is sent uncompressed even on a WebSocket that
    /// negotiated <c>permessage-deflate</c>. Compression applies only when enabled (<c>PerMessageDeflate</c>).
    /// </summary>
    public SocketEmitter Compress(bool compress) => new(_socket, _volatile, _timeout, !compress);

    /// <summary>Sends event <paramref name="eventName"/> to the client.</summary>
    public ValueTask EmitAsync(string eventName, params object?[] args)
    {
        EventNames.ThrowIfReserved(eventName);
        ArgumentNullException.ThrowIfNull(args);
        if (!_socket.Connected)
        {
            return ValueTask.CompletedTask;
        }

        if (_socket.Namespace.RecoveryLog is { } log && _socket.Pid is not null)
        {
            // The gateway's current offset, so the client's last offset is always one the cluster issued (it takes the
            // last string argument of any event for one). Under the log's lock: every broadcast before it was written first.
            lock (log.Lock)
            {
                object?[] withOffset = [.. args, log.VectorLocked.ToOffset()];
                Send(eventName, args, PacketEncoder.Event(_socket.Namespace.Name, eventName, withOffset, null, _socket.Server.JsonOptions));
            }

            return ValueTask.CompletedTask;
        }

        var packet = PacketEncoder.Event(_socket.Namespace.Name, eventName, args, null, _socket.Server.JsonOptions);
        Send(eventName, args, packet);
        return ValueTask.CompletedTask;
    }

    /// <summary>Sends event <paramref name="eventName"/> and waits for the client's acknowledgement, which it returns.</summary>
    /// <exception cref="TimeoutException">
    /// No acknowledgement within the timeout set with <see cref="Timeout"/>, or else <see cref="SocketIOOptions.AckTimeout"/>.
    /// </exception>
    /// <exception cref="SocketDisconnectedException">The socket disconnected first.</exception>
    public ValueTask<SocketArguments> EmitWithAckAsync(string eventName, params object?[] args)
    {
        EventNames.ThrowIfReserved(eventName);
        ArgumentNullException.ThrowIfNull(args);
        if (!_socket.Connected)
        {
            return ValueTask.FromException<SocketArguments>(new SocketDisconnectedException(_socket.Id));
        }

        var ackId = _socket.Namespace.NextAckId();
        var waiter = new SingleAckWaiter(_socket, ackId, _timeout ?? _socket.Server.Options.AckTimeout, _socket.Server.TimeProvider);
        _socket.RegisterAck(ackId, waiter);
        var packet = PacketEncoder.Event(_socket.Namespace.Name, eventName, args, ackId, _socket.Server.JsonOptions);
        Send(eventName, args, packet);
        return new(waiter.Task);
    }

    /// <summary>Sends event <paramref name="eventName"/> and returns the first argument of the client's acknowledgement as <typeparamref name="T"/>.</summary>
    public async ValueTask<T?> EmitWithAckAsync<T>(string eventName, params object?[] args)
    {
        var response = await EmitWithAckAsync(eventName, args).ConfigureAwait(false);
        return response.Count > 0 ? response.Get<T>(0) : default;
    }

    private void Send(string eventName, object?[] args, EncodedPacket packet)
    {
        if (_socket.HasOutgoingHandlers)
        {
            _socket.NotifyOutgoing(eventName, args);
        }

        if (_uncompressed)
        {
            packet.DisableCompression();
        }

        if (_volatile)
        {
            _socket.Client.SendVolatile(packet);
        }
        else
        {
            _socket.Client.Send(packet);
        }
    }
}
