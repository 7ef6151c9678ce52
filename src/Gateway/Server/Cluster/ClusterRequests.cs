using System.Collections.Concurrent;
using OrleansRooms.Grains.Messages;

namespace OrleansRooms.Cluster;

/// <summary>A request this gateway sent to others, waiting for their answers.</summary>
internal interface IClusterRequest
{
    string RequestId { get; }

    void OnClusterMessage(ClusterMessage message, SocketIOServer server);

    void Cancel(Exception error);
}

/// <summary>The requests of one namespace waiting for answers from other gateways, by request id.</summary>
internal sealed class ClusterRequests
{
    private readonly ConcurrentDictionary<string, IClusterRequest> _pending = new(StringComparer.Ordinal);
    private long _nextId;

    public string NextId() => Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public void Add(IClusterRequest request) => _pending[request.RequestId] = request;

    public void Remove(string requestId) => _pending.TryRemove(requestId, out _);

    public void Dispatch(ClusterMessage message, SocketIOServer server)
    {
        if (_pending.TryGetValue(message.RequestId, out var request))
        {
            request.OnClusterMessage(message, server);
        }
    }
}

/// <summary>
/// Collects one answer from each gateway a request reached. Completes when all answered, or fails at the timeout
/// (with what arrived, for callers that report partial answers).
/// </summary>
internal sealed class GatewayAnswers : IClusterRequest
{
    private readonly TaskCompletionSource<IReadOnlyList<ClusterMessage>> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<ClusterMessage> _answers = [];
    private readonly Lock _lock = new();
    private readonly ClusterMessageType _answerType;
    private int _expected = -1;
    private ITimer? _timer;

    public GatewayAnswers(string requestId, ClusterMessageType answerType)
    {
        RequestId = requestId;
        _answerType = answerType;
    }

    public string RequestId { get; }

    public Task<IReadOnlyList<ClusterMessage>> Task => _completion.Task;

    public IReadOnlyList<ClusterMessage> Received
    {
        get
        {
            lock (_lock)
            {
                return [.. _answers];
            }
        }
    }

    /// <summary>Sets how many gateways were reached, and the deadline for their answers.</summary>
    public void Expect(int gateways, TimeSpan timeout, TimeProvider timeProvider)
    {
        lock (_lock)
        {
            _expected = gateways;
        }

        _timer = timeProvider.CreateTimer(
            static state => ((GatewayAnswers)state!).Cancel(new TimeoutException("Not every server answered in time.")),
            this, timeout, Timeout.InfiniteTimeSpan);
        TryComplete();
    }

    public void OnClusterMessage(ClusterMessage message, SocketIOServer server)
    {
        if (message.Type != _answerType)
        {
            return;
        }

        lock (_lock)
        {
            _answers.Add(message);
        }

        TryComplete();
    }

    public void Cancel(Exception error)
    {
        _timer?.Dispose();
        _completion.TrySetException(error);
    }

    private void TryComplete()
    {
        ClusterMessage[] answers;
        lock (_lock)
        {
            if (_expected < 0 || _answers.Count < _expected)
            {
                return;
            }

            answers = [.. _answers];
        }

        _timer?.Dispose();
        _completion.TrySetResult(answers);
    }
}
