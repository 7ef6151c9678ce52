using OrleansRooms.Cluster;
using OrleansRooms.Grains.Messages;

namespace OrleansRooms.Rooms;

/// <summary>Waits for acknowledgements registered on sockets under one ack id.</summary>
internal interface IAckReceiver
{
    void OnAck(Socket socket, SocketArguments arguments);

    /// <summary>The socket disconnected without answering.</summary>
    void OnClosed(Socket socket);
}

/// <summary>The acknowledgement of one emit to one socket.</summary>
internal sealed class SingleAckWaiter : IAckReceiver
{
    private readonly TaskCompletionSource<SocketArguments> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ITimer? _timer;

    public SingleAckWaiter(Socket socket, int ackId, TimeSpan? timeout, TimeProvider timeProvider)
    {
        if (timeout is { } due)
        {
            _timer = timeProvider.CreateTimer(static state =>
            {
                var (socket, ackId, waiter) = ((Socket, int, SingleAckWaiter))state!;
                if (waiter._completion.TrySetException(new TimeoutException($"Socket {socket.Id} did not acknowledge in time.")))
                {
                    socket.CancelAck(ackId);
                }
            }, (socket, ackId, this), due, Timeout.InfiniteTimeSpan);
        }
    }

    public Task<SocketArguments> Task => _completion.Task;

    public void OnAck(Socket socket, SocketArguments arguments)
    {
        _timer?.Dispose();
        _completion.TrySetResult(arguments);
    }

    public void OnClosed(Socket socket)
    {
        _timer?.Dispose();
        _completion.TrySetException(new SocketDisconnectedException(socket.Id));
    }
}

/// <summary>
/// The acknowledgements of one broadcast, from local sockets and from other gateways' sockets. Completes when every
/// gateway reached has said how many sockets it delivered to, and each of those answered or disconnected; fails at
/// the timeout with the answers received so far.
/// </summary>
internal sealed class BroadcastAckCollector : IAckReceiver, IClusterRequest
{
    private readonly TaskCompletionSource<IReadOnlyList<SocketArguments>> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<SocketArguments> _responses = [];
    private readonly List<(Socket Socket, int AckId)> _local = [];
    private readonly Lock _lock = new();
    private ITimer? _timer;
    private ITimer? _countTimer;
    private long _expected;
    private long _settled;
    private int _pendingGateways;
    private bool _sealed;

    public BroadcastAckCollector(string requestId) => RequestId = requestId;

    public string RequestId { get; }

    public Task<IReadOnlyList<SocketArguments>> Task => _completion.Task;

    public void StartTimer(TimeSpan? timeout, TimeProvider timeProvider)
    {
        if (timeout is { } due)
        {
            _timer = timeProvider.CreateTimer(static state => ((BroadcastAckCollector)state!).OnTimeout(), this, due, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Registers this collector on a local target socket.</summary>
    public void AddLocal(Socket socket, int ackId)
    {
        lock (_lock)
        {
            _local.Add((socket, ackId));
            _expected++;
        }

        socket.RegisterAck(ackId, this);
    }

    /// <summary>
    /// The broadcast was published to <paramref name="gateways"/> other gateways, each of which will report a count.
    /// A gateway that has not reported within <paramref name="countTimeout"/> (it died on the way) counts as having
    /// reached no socket, so a broadcast without <c>Timeout</c> still completes.
    /// </summary>
    public void AddGateways(int gateways, TimeSpan countTimeout, TimeProvider timeProvider)
    {
        if (gateways == 0)
        {
            return;
        }

        lock (_lock)
        {
            _pendingGateways += gateways;
            _countTimer ??= timeProvider.CreateTimer(static state => ((BroadcastAckCollector)state!).OnCountTimeout(), this, countTimeout, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Every local target and every gateway is known; completion may happen from now on.</summary>
    public void Seal()
    {
        lock (_lock)
        {
            _sealed = true;
        }

        TryComplete();
    }

    public void OnAck(Socket socket, SocketArguments arguments) => OnResponse(arguments);

    public void OnClosed(Socket socket) => OnResponse(null);

    public void OnClusterMessage(ClusterMessage message, SocketIOServer server)
    {
        switch (message.Type)
        {
            case ClusterMessageType.BroadcastClientCount:
                lock (_lock)
                {
                    _pendingGateways--;
                    _expected += message.Count;
                }

                TryComplete();
                break;
            case ClusterMessageType.BroadcastAck:
                OnResponse(message.Count == 1 ? null : SocketArguments.FromCluster(message, server.JsonOptions));
                break;
        }
    }

    public void Cancel(Exception error)
    {
        _timer?.Dispose();
        _countTimer?.Dispose();
        _completion.TrySetException(error);
    }

    private void OnResponse(SocketArguments? arguments)
    {
        lock (_lock)
        {
            if (arguments is not null)
            {
                _responses.Add(arguments);
            }

            _settled++;
        }

        TryComplete();
    }

    private void TryComplete()
    {
        SocketArguments[] responses;
        lock (_lock)
        {
            if (!_sealed || _pendingGateways > 0 || _settled < _expected)
            {
                return;
            }

            responses = [.. _responses];
        }

        _timer?.Dispose();
        _countTimer?.Dispose();
        _completion.TrySetResult(responses);
    }

    private void OnCountTimeout()
    {
        lock (_lock)
        {
            _pendingGateways = 0;
        }

        TryComplete();
    }

    private void OnTimeout()
    {
        SocketArguments[] responses;
        (Socket Socket, int AckId)[] local;
        lock (_lock)
        {
            responses = [.. _responses];
            local = [.. _local];
        }

        if (_completion.TrySetException(new BroadcastAckTimeoutException(responses)))
        {
            foreach (var (socket, ackId) in local)
            {
                socket.CancelAck(ackId);
            }
        }
    }
}
