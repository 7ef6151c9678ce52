namespace OrleansRooms.Silo.Tests.Infrastructure;

/// <summary>
/// Waits until the given sockets joined (or left) a room on their gateways: the adapter raises <c>join-room</c> and
/// <c>leave-room</c> when a gateway's own table changes, which is what an emitter's request does there.
/// </summary>
internal sealed class RoomChanges : IDisposable
{
    private readonly List<(OrleansRooms.Adapter Adapter, Action<string, string> Handler)> _subscriptions = [];
    private readonly Dictionary<string, TaskCompletionSource> _pending = [];
    private readonly bool _join;

    private RoomChanges(bool join) => _join = join;

    /// <summary>Watches the sockets of <paramref name="clients"/> for joining (or leaving) <paramref name="room"/>.</summary>
    public static RoomChanges Watch(EmitterCluster world, Clients clients, string room, bool join)
    {
        var changes = new RoomChanges(join);
        for (var i = 0; i < clients.Count; i++)
        {
            changes._pending[clients.SocketOf(i).Id] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        foreach (var gateway in world.Gateways)
        {
            var adapter = gateway.Io.Of("/").Adapter;
            Action<string, string> handler = (changed, id) =>
            {
                if (changed == room && changes._pending.TryGetValue(id, out var done))
                {
                    done.TrySetResult();
                }
            };
            if (join)
            {
                adapter.JoinRoom += handler;
            }
            else
            {
                adapter.LeaveRoom += handler;
            }

            changes._subscriptions.Add((adapter, handler));
        }

        return changes;
    }

    /// <summary>Completes when every watched socket changed; fails after 10 s.</summary>
    public Task AllAsync() => Task.WhenAll(_pending.Values.Select(p => p.Task)).WaitAsync(TimeSpan.FromSeconds(10));

    public void Dispose()
    {
        foreach (var (adapter, handler) in _subscriptions)
        {
            if (_join)
            {
                adapter.JoinRoom -= handler;
            }
            else
            {
                adapter.LeaveRoom -= handler;
            }
        }
    }
}
