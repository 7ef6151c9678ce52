using System.Collections.Immutable;

namespace OrleansRooms.Grains.Rooms;

/// <summary>
/// Writes the sessions' membership changes to the room grains in batches, on each silo: one call at a time per room,
/// carrying every change that came while the previous call was on its way. A lone change goes at once; under load (a
/// hot room, a gateway's sockets joining together) many changes share one call, so a room takes far more joins per
/// second than it could take calls. Each change completes when the batch carrying it is applied, or fails with it.
/// </summary>
internal sealed class RoomWriter
{
    private readonly Lock _lock = new();
    private readonly Dictionary<GrainId, Batch> _batches = [];

    /// <summary>Applies <paramref name="change"/> to <paramref name="room"/>; completes when the batch holding it is applied.</summary>
    public Task WriteAsync(IRoomMembers room, MemberChange change)
    {
        lock (_lock)
        {
            var id = room.GetGrainId();
            if (!_batches.TryGetValue(id, out var batch))
            {
                _batches[id] = batch = new Batch(room);
            }

            batch.Pending.Add(change);
            batch.Written ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var written = batch.Written.Task;
            if (!batch.Flushing)
            {
                batch.Flushing = true;
                _ = FlushAsync(id, batch);
            }

            return written;
        }
    }

    private async Task FlushAsync(GrainId id, Batch batch)
    {
        while (true)
        {
            ImmutableArray<MemberChange> changes;
            TaskCompletionSource written;
            lock (_lock)
            {
                if (batch.Pending.Count == 0)
                {
                    // A room written no more is forgotten: the batches are bounded by the rooms being written.
                    batch.Flushing = false;
                    _batches.Remove(id);
                    return;
                }

                changes = [.. batch.Pending];
                batch.Pending.Clear();
                written = batch.Written!;
                batch.Written = null;
            }

            try
            {
                await batch.Room.ApplyAsync(changes).ConfigureAwait(false);
                written.SetResult();
            }
            catch (Exception ex)
            {
                // Every change of the batch fails with it; each writer retries its own.
                written.SetException(ex);
            }
        }
    }

    private sealed class Batch(IRoomMembers room)
    {
        public IRoomMembers Room { get; } = room;

        public List<MemberChange> Pending { get; } = [];

        public TaskCompletionSource? Written { get; set; }

        public bool Flushing { get; set; }
    }
}
