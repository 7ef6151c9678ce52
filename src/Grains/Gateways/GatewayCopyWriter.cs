using System.Collections.Immutable;
using OrleansRooms.Grains.Membership;

namespace OrleansRooms.Grains.Gateways;

/// <summary>
/// Writes the socket grains' changes to their gateway's copy (<see cref="IGatewaySocketsGrain"/>) in batches: one call
/// at a time per gateway, carrying every change that came while the previous call was on its way. A lone change goes at
/// once; under load many joins share one remote call. One per silo, where the socket grains of its gateway live.
/// </summary>
internal sealed class GatewayCopyWriter(IGrainFactory grains)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<SiloAddress, Batch> _batches = [];

    /// <summary>Records <paramref name="change"/> in <paramref name="gateway"/>'s copy; completes once the batch holding it is written.</summary>
    public Task WriteAsync(SiloAddress gateway, SocketChange change)
    {
        lock (_lock)
        {
            if (!_batches.TryGetValue(gateway, out var batch))
            {
                _batches[gateway] = batch = new Batch(grains.GetGrain<IGatewaySocketsGrain>(GrainKeys.Of(gateway)));
            }

            batch.Pending.Add(change);
            batch.Written ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var written = batch.Written.Task;
            if (!batch.Flushing)
            {
                batch.Flushing = true;
                _ = FlushAsync(gateway, batch);
            }

            return written;
        }
    }

    private async Task FlushAsync(SiloAddress gateway, Batch batch)
    {
        while (true)
        {
            ImmutableArray<SocketChange> changes;
            TaskCompletionSource written;
            lock (_lock)
            {
                if (batch.Pending.Count == 0)
                {
                    batch.Flushing = false;
                    // A gateway that stops writing is forgotten; bounded by the gateways whose sockets this silo hosts.
                    _batches.Remove(gateway);
                    return;
                }

                changes = [.. batch.Pending];
                batch.Pending.Clear();
                written = batch.Written!;
                batch.Written = null;
            }

            try
            {
                await batch.Copy.ApplyAsync(changes).ConfigureAwait(false);
                written.SetResult();
            }
            catch (Exception ex)
            {
                written.SetException(ex);
            }
        }
    }

    private sealed class Batch(IGatewaySocketsGrain copy)
    {
        public IGatewaySocketsGrain Copy { get; } = copy;

        public List<SocketChange> Pending { get; } = [];

        public TaskCompletionSource? Written { get; set; }

        public bool Flushing { get; set; }
    }
}
