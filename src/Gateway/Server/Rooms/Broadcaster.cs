using OrleansRooms.Grains;
using OrleansRooms.Protocol;

namespace OrleansRooms.Rooms;

/// <summary>
/// The fan-out of one namespace: encodes a broadcast once, selects the local targets from the room table (union,
/// except) and writes the same packet bytes to each target's connection. No allocation per recipient.
/// </summary>
internal sealed class Broadcaster(Namespace nsp)
{
    [ThreadStatic]
    private static List<Socket>? t_targets;

    /// <summary>Delivers to the matching sockets of this namespace (and of its children, for a dynamic parent).</summary>
    public void Broadcast(string eventName, object?[] args, RoomSelection selection, BroadcastFlags flags, BroadcastAckCollector? collector)
    {
        var count = 0;
        if (nsp.Children is { } children)
        {
            foreach (var child in children.Values)
            {
                count += child.Broadcaster.Deliver(eventName, args, selection, flags, collector);
            }
        }
        else
        {
            count = Deliver(eventName, args, selection, flags, collector);
        }

        collector?.Expect(count);
    }

    /// <summary>The local sockets a selection targets (a copy).</summary>
    public IReadOnlyList<Socket> SelectLocal(RoomSelection selection)
    {
        var result = new List<Socket>();
        if (nsp.Children is { } children)
        {
            foreach (var child in children.Values)
            {
                child.Table.Select(selection, result);
            }
        }
        else
        {
            nsp.Table.Select(selection, result);
        }

        return result;
    }

    private int Deliver(string eventName, object?[] args, RoomSelection selection, BroadcastFlags flags, BroadcastAckCollector? collector)
    {
        int? ackId = collector is null ? null : nsp.NextAckId();
        var packet = PacketEncoder.Event(nsp.Name, eventName, args, ackId, nsp.Server.JsonOptions);

        // Taken, not borrowed: an outgoing listener that broadcasts again on this thread gets a list of its own.
        var targets = t_targets ?? [];
        t_targets = null;
        try
        {
            nsp.Table.Select(selection, targets);
            if (collector is not null)
            {
                collector.Start(flags.Timeout, nsp.Server.TimeProvider, ackId!.Value, [.. targets]);
            }

            foreach (var socket in targets)
            {
                if (socket.HasOutgoingHandlers)
                {
                    socket.NotifyOutgoing(eventName, args);
                }

                if (collector is not null)
                {
                    socket.RegisterAck(ackId!.Value, collector);
                }

                if (flags.Volatile)
                {
                    socket.Client.SendVolatile(packet);
                }
                else
                {
                    socket.Client.Send(packet);
                }
            }

            var count = targets.Count;
            nsp.Server.Metrics.Broadcast(count);
            return count;
        }
        finally
        {
            targets.Clear();
            if (targets.Capacity <= 4096)
            {
                t_targets = targets;
            }
        }
    }
}
