using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Rooms;

namespace OrleansRooms.Cluster;

/// <summary>
/// The presence changes of one namespace's sockets on this gateway, on their way to the other gateways' inboxes: a
/// bounded queue drained by one loop, which sends what waits as one call per gateway and starts the next batch once
/// every gateway answered, so each receives the changes in the order they were recorded. At most once: a full queue
/// drops new changes, and a failed call is not made again (a retried call that had timed out would raise its changes
/// twice); both are logged, a gateway that does not answer once until it answers again (a gateway dying is expected:
/// every batch fails until the cluster declares it dead).
/// </summary>
internal sealed class PresenceOutbox
{
    private const int MaxBatch = 1_024;

    private readonly NamespaceCluster _cluster;
    private readonly string _namespace;
    private readonly int _capacity;
    private readonly ILogger _logger;
    private readonly Channel<PresenceChange> _queue;
    private readonly ConcurrentDictionary<SiloAddress, byte> _unreachable = new();
    private int _dropped;

    public PresenceOutbox(NamespaceCluster cluster, string ns, int capacity, ILogger logger)
    {
        _cluster = cluster;
        _namespace = ns;
        _capacity = capacity;
        _logger = logger;
        _queue = Channel.CreateBounded<PresenceChange>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
        _ = SendAllAsync();
    }

    /// <summary>Queues <paramref name="change"/> for the other gateways; never blocks.</summary>
    public void Post(PresenceChange change) => _queue.Writer.TryWrite(change);

    private async Task SendAllAsync()
    {
        var batch = ImmutableArray.CreateBuilder<PresenceChange>();
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var change))
            {
                batch.Add(change);
            }

            if (Interlocked.Exchange(ref _dropped, 0) is > 0 and var dropped)
            {
                PresenceLog.Dropped(_logger, dropped, _namespace, _capacity);
            }

            var changes = batch.DrainToImmutable();
            try
            {
                await SendAsync(changes).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // The loop outlives a batch it could not send: the next changes still go out.
                PresenceLog.BatchFailed(_logger, changes.Length, _namespace, ex);
            }
        }
    }

    private Task SendAsync(ImmutableArray<PresenceChange> changes)
    {
        var targets = _cluster.IsDetached ? [] : _cluster.OtherKnownGateways();
        if (!_unreachable.IsEmpty)
        {
            // A gateway the cluster no longer knows is not sent to again: forget it.
            foreach (var gateway in _unreachable.Keys)
            {
                if (!targets.Contains(gateway))
                {
                    _unreachable.TryRemove(gateway, out _);
                }
            }
        }

        var sends = new Task[targets.Count];
        for (var i = 0; i < sends.Length; i++)
        {
            sends[i] = SendAsync(targets[i], changes);
        }

        return Task.WhenAll(sends);
    }

    private async Task SendAsync(SiloAddress gateway, ImmutableArray<PresenceChange> changes)
    {
        try
        {
            await _cluster.Gateway(gateway).PresenceAsync(_namespace, changes).ConfigureAwait(false);
            _unreachable.TryRemove(gateway, out _);
        }
        catch (Exception ex)
        {
            if (_unreachable.TryAdd(gateway, 0))
            {
                PresenceLog.NotDelivered(_logger, changes.Length, _namespace, gateway, ex);
            }
        }
    }
}
