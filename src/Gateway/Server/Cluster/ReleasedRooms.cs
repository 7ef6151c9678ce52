using System.Collections.Immutable;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Hosting;

namespace OrleansRooms.Cluster;

/// <summary>
/// Raises, on this gateway's adapters, the room events of the sockets of a gateway that left the cluster, as the silos
/// report them: each session its socket leaving its rooms, each room grain that was left empty its deletion. A room
/// whose grain died along with that gateway reports nothing, so for each room left and not reported deleted, this
/// gateway asks the room (rebuilt from the sessions) whether it is empty now, and the live gateways whether any of their
/// sockets is in it: a session that died with the same silo is still being restored by its gateway, and a room rebuilt
/// meanwhile does not know it yet. A deletion is raised once per room and lost gateway, whichever path finds it first.
/// </summary>
internal sealed class ReleasedRooms(SocketIOServer server)
{
    // How long a deletion is remembered, so a late report of the same one is not raised again.
    private static readonly TimeSpan Memory = TimeSpan.FromMinutes(2);

    private static readonly ReadOnlyMemory<byte> NoSockets = "[]"u8.ToArray();

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
                if (await nsp.Cluster.CountRoomMembersAsync(room).ConfigureAwait(false) == 0 && !await AnyGatewayHostsAsync(nsp, room).ConfigureAwait(false))
                {
                    RaiseDeletedOnce(new RoomEvent(ns, room, null, lost));
                }
            }
            catch (Exception ex)
            {
                SocketIOLog.ClusterMessageRejected(server.Logger, "delete-room", ns, ex);
            }
        }
    }

    // Whether a live gateway's table (this one's included) has a socket in the room.
    private static async Task<bool> AnyGatewayHostsAsync(Namespace nsp, string room)
    {
        if (nsp.Table.GetMembers(room).Count > 0)
        {
            return true;
        }

        var answers = await nsp.Cluster.AskAsync([], gateway => gateway.FetchSocketsAsync(nsp.Name, [room], []), NoSockets).ConfigureAwait(false);
        foreach (var answer in answers)
        {
            if (!answer.Span.SequenceEqual(NoSockets.Span))
            {
                return true;
            }
        }

        return false;
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
