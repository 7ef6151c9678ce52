using System.Collections.Immutable;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Hosting;

namespace OrleansRooms.Cluster;

/// <summary>
/// Raises, on this gateway's adapters, the room events of the sockets of a gateway that left the cluster, as the silos
/// report them: each session its socket leaving its rooms, each room grain that was left empty its deletion. A room
/// whose grain died along with that gateway reports nothing, so for each room left and not reported deleted, this
/// gateway asks the room (rebuilt from the sessions) whether it is empty now. A deletion is raised once per room and
/// lost gateway, whichever path finds it first.
/// </summary>
internal sealed class ReleasedRooms(SocketIOServer server)
{
    // How long a deletion is remembered, so a late report of the same one is not raised again.
    private static readonly TimeSpan Memory = TimeSpan.FromMinutes(2);

    private readonly Lock _lock = new();
    private readonly Dictionary<(string Namespace, string Room, SiloAddress Lost), long> _deleted = [];

    public async Task RaiseAsync(ImmutableArray<RoomEvent> events)
    {
        var left = new HashSet<(string Namespace, string Room, SiloAddress Lost)>();
        foreach (var change in events)
        {
            if (change.SocketId is not null)
            {
                server.FindNamespace(change.Namespace)?.Adapter.RaiseReleased(change);
                left.Add((change.Namespace, change.Room, change.Lost));
            }
        }

        foreach (var change in events)
        {
            if (change.SocketId is null)
            {
                left.Remove((change.Namespace, change.Room, change.Lost));
                RaiseDeletedOnce(change);
            }
        }

        foreach (var (ns, room, lost) in left)
        {
            if (server.FindNamespace(ns) is not { } nsp)
            {
                continue;
            }

            try
            {
                if (await nsp.Cluster.CountRoomMembersAsync(room).ConfigureAwait(false) == 0)
                {
                    RaiseDeletedOnce(new RoomEvent(ns, room, null, lost));
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                SocketIOLog.ClusterMessageRejected(server.Logger, "delete-room", ns, ex);
            }
        }
    }

    private void RaiseDeletedOnce(RoomEvent change)
    {
        var now = server.TimeProvider.GetTimestamp();
        lock (_lock)
        {
            if (_deleted.Count > 1024)
            {
                var horizon = now - (long)(Memory.TotalSeconds * server.TimeProvider.TimestampFrequency);
                foreach (var (key, at) in _deleted.ToArray())
                {
                    if (at < horizon)
                    {
                        _deleted.Remove(key);
                    }
                }
            }

            if (!_deleted.TryAdd((change.Namespace, change.Room, change.Lost), now))
            {
                return;
            }
        }

        server.FindNamespace(change.Namespace)?.Adapter.RaiseReleased(change);
    }
}
