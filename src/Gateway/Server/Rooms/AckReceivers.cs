using System.Collections.Immutable;
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
/// The acknowledgements of one broadcast: from this gateway's sockets, and each other gateway's answer (all of its
/// sockets' acknowledgements at once). Completes when every socket reached answered or disconnected. Fails at the
/// timeout with the answers received so far; and, without a timeout, as soon as everything else has answered when a
/// gateway could not answer at all: the result says so rather than leaving that gateway's sockets out silently.
/// </summary>
internal sealed class BroadcastAckCollector(TimeSpan? timeout, TimeProvider timeProvider, System.Text.Json.JsonSerializerOptions json) : IAckReceiver
{
    private readonly TaskCompletionSource<IReadOnlyList<SocketArguments>> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<SocketArguments> _responses = [];
    private readonly List<(Socket Socket, int AckId)> _local = [];
    private readonly Lock _lock = new();
    private ITimer? _timer;
    private long _expected;
    private long _settled;
    private int _pendingGateways;
    private int _unanswered;
    private bool _sealed;

    public Task<IReadOnlyList<SocketArguments>> Task => _completion.Task;

    public void Start()
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

    /// <summary>The broadcast went to other gateways: <paramref name="answers"/> completes with each one's answer (null: none).</summary>
    public void AddGateways(Task<BroadcastAcks?[]> answers)
    {
        lock (_lock)
        {
            _pendingGateways++;
        }

        _ = ReceiveAsync(answers);
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

    private async Task ReceiveAsync(Task<BroadcastAcks?[]> answers)
    {
        BroadcastAcks?[] received;
        try
        {
            received = await answers.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Each gateway that did not answer was logged where it was asked; the caller hears the answers are incomplete.
            received = [null];
        }

        lock (_lock)
        {
            _pendingGateways--;
            foreach (var answer in received)
            {
                if (answer is null)
                {
                    _unanswered++;
                    continue;
                }

                foreach (var ack in answer.Acks)
                {
                    _responses.Add(SocketArguments.FromCluster(ack, json));
                }

                // A gateway whose wait ended at the timeout: ours ends the broadcast.
                if (!answer.Complete)
                {
                    _unanswered++;
                }
            }
        }

        TryComplete();
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
        bool incomplete;
        lock (_lock)
        {
            if (!_sealed || _pendingGateways > 0 || _settled < _expected)
            {
                return;
            }

            incomplete = _unanswered > 0;
            if (incomplete && timeout is not null)
            {
                // The timer settles it, with whatever else arrives until then.
                return;
            }

            responses = [.. _responses];
        }

        _timer?.Dispose();
        if (incomplete)
        {
            _completion.TrySetException(new BroadcastAckTimeoutException(responses, "Some sockets could not acknowledge the broadcast: a server it was sent to did not answer."));
        }
        else
        {
            _completion.TrySetResult(responses);
        }
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

/// <summary>
/// On a gateway that received a broadcast with acknowledgements: waits for its sockets' answers and gives them all at
/// once when every socket answered or disconnected, or at the broadcast's timeout with those that arrived.
/// </summary>
internal sealed class RemoteAckCollector : IAckReceiver
{
    private readonly TaskCompletionSource<BroadcastAcks> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<AckData> _acks = [];
    private readonly Lock _lock = new();
    private readonly ITimer? _timer;
    private int _sockets = -1;
    private int _settled;

    public RemoteAckCollector(TimeSpan? timeout, TimeProvider timeProvider)
    {
        if (timeout is { } due)
        {
            _timer = timeProvider.CreateTimer(static state => ((RemoteAckCollector)state!).Finish(complete: false), this, due, Timeout.InfiniteTimeSpan);
        }
    }

    public Task<BroadcastAcks> Task => _completion.Task;

    /// <summary>The broadcast reached <paramref name="sockets"/> sockets here.</summary>
    public void Seal(int sockets)
    {
        lock (_lock)
        {
            _sockets = sockets;
        }

        TryFinish();
    }

    public void OnAck(Socket socket, SocketArguments arguments)
    {
        var attachments = arguments.Attachments;
        var parts = ImmutableArray.CreateBuilder<ReadOnlyMemory<byte>>(attachments.Count);
        foreach (var attachment in attachments)
        {
            parts.Add(attachment);
        }

        lock (_lock)
        {
            _acks.Add(new AckData(arguments.ToJsonArray(), parts.MoveToImmutable()));
            _settled++;
        }

        TryFinish();
    }

    public void OnClosed(Socket socket)
    {
        lock (_lock)
        {
            _settled++;
        }

        TryFinish();
    }

    private void TryFinish()
    {
        lock (_lock)
        {
            if (_sockets < 0 || _settled < _sockets)
            {
                return;
            }
        }

        Finish(complete: true);
    }

    private void Finish(bool complete)
    {
        BroadcastAcks answer;
        lock (_lock)
        {
            answer = new BroadcastAcks(Math.Max(_sockets, 0), [.. _acks], complete);
        }

        _timer?.Dispose();
        _completion.TrySetResult(answer);
    }
}
