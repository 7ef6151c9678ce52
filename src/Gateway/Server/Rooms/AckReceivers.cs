using OrleansRooms.Protocol;

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
            }, (socket, ackId, this), due, System.Threading.Timeout.InfiniteTimeSpan);
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
/// The acknowledgements of one broadcast: completes when every target answered or disconnected, or fails at the
/// timeout with the responses received so far.
/// </summary>
internal sealed class BroadcastAckCollector : IAckReceiver
{
    private readonly TaskCompletionSource<IReadOnlyList<SocketArguments>> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<SocketArguments> _responses = [];
    private readonly Lock _lock = new();
    private ITimer? _timer;
    private int _expected = -1;
    private int _settled;

    public Task<IReadOnlyList<SocketArguments>> Task => _completion.Task;

    public void Start(TimeSpan? timeout, TimeProvider timeProvider, int ackId, Socket[] targets)
    {
        if (timeout is { } due)
        {
            _timer = timeProvider.CreateTimer(static state =>
            {
                var (collector, ackId, targets) = ((BroadcastAckCollector, int, Socket[]))state!;
                collector.OnTimeout(ackId, targets);
            }, (this, ackId, targets), due, System.Threading.Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Sets how many answers to wait for, once the targets are known.</summary>
    public void Expect(int count)
    {
        lock (_lock)
        {
            _expected = count;
        }

        TryComplete();
    }

    public void OnAck(Socket socket, SocketArguments arguments)
    {
        lock (_lock)
        {
            _responses.Add(arguments);
            _settled++;
        }

        TryComplete();
    }

    public void OnClosed(Socket socket)
    {
        lock (_lock)
        {
            _settled++;
        }

        TryComplete();
    }

    private void TryComplete()
    {
        SocketArguments[] responses;
        lock (_lock)
        {
            if (_expected < 0 || _settled < _expected)
            {
                return;
            }

            responses = [.. _responses];
        }

        _timer?.Dispose();
        _completion.TrySetResult(responses);
    }

    private void OnTimeout(int ackId, Socket[] targets)
    {
        SocketArguments[] responses;
        lock (_lock)
        {
            responses = [.. _responses];
        }

        if (_completion.TrySetException(new BroadcastAckTimeoutException(responses)))
        {
            foreach (var socket in targets)
            {
                socket.CancelAck(ackId);
            }
        }
    }
}
