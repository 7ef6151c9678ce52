using OrleansRooms.Grains.Messages;
using OrleansRooms.Grains.Recovery;
using OrleansRooms.Protocol;
using OrleansRooms.Recovery;

namespace OrleansRooms.Rooms;

/// <summary>
/// The fan-out of one namespace: encodes a broadcast once, delivers it to the matching local sockets (union, except)
/// writing the same packet bytes to each, then sends the same encoded data once to each other gateway hosting a
/// target (<see cref="Cluster.NamespaceCluster"/>). No allocation per recipient.
/// <para>
/// With connection state recovery, a broadcast that may be replayed (no acknowledgement, not volatile, not local) is
/// sequenced instead: it takes its place in this silo's sequence (<see cref="NamespaceLog"/>), goes to every silo, and
/// each gateway delivers it with its offset appended. Every other event packet a socket gets carries the gateway's
/// current offset too, so a client's last offset is always one the cluster issued.
/// </para>
/// </summary>
internal sealed class Broadcaster(Namespace nsp)
{
    [ThreadStatic]
    private static List<Socket>? t_targets;

    /// <summary>Delivers to the matching sockets of this namespace (of every child, for a dynamic parent), on every gateway unless <see cref="BroadcastFlags.Local"/>.</summary>
    public async ValueTask BroadcastAsync(string eventName, object?[] args, RoomSelection selection, BroadcastFlags flags, BroadcastAckCollector? collector)
    {
        if (nsp.Children is { } children)
        {
            foreach (var child in children.Values)
            {
                await child.Broadcaster.BroadcastOneAsync(eventName, args, selection, flags, collector).ConfigureAwait(false);
            }
        }
        else
        {
            await BroadcastOneAsync(eventName, args, selection, flags, collector).ConfigureAwait(false);
        }

        collector?.Seal();
    }

    /// <summary>Delivers a broadcast that another gateway or an emitter published.</summary>
    public void DeliverFromCluster(ClusterMessage message)
    {
        var flags = new BroadcastFlags((message.Flags & ClusterMessageFlags.Volatile) != 0, Local: true, null);
        if (nsp.RecoveryLog is { } log)
        {
            lock (log.Lock)
            {
                Deliver(WithOffset(message.Data, message.Attachments, log.VectorLocked), null, message.Selection, flags, null, null);
            }

            return;
        }

        var packet = PacketEncoder.EventFromData(nsp.Name, message.Data.Span, message.Attachments, null);
        Deliver(packet, null, message.Selection, flags, null, null);
    }

    /// <summary>Delivers a sequenced broadcast this silo took, with the offset it was taken at (under the log's lock).</summary>
    public void DeliverSequenced(ClusterMessage message, RecoveryVector vector) =>
        Deliver(WithOffset(message.Data, message.Attachments, vector), null, message.Selection, new BroadcastFlags(false, Local: true, null), null, null);

    /// <summary>A packet of <paramref name="data"/> with <paramref name="vector"/>'s offset appended.</summary>
    public EncodedPacket WithOffset(ReadOnlyMemory<byte> data, IReadOnlyList<ReadOnlyMemory<byte>> attachments, RecoveryVector vector) =>
        PacketEncoder.EventFromData(nsp.Name, Offsets.Append(data.Span, vector.ToOffset()), attachments, null);

    /// <summary>
    /// Delivers a broadcast with acknowledgements that another gateway published; completes with this gateway's
    /// sockets' answers once all answered or disconnected, or at <paramref name="timeout"/>.
    /// </summary>
    public Task<BroadcastAcks> DeliverWithAcksFromCluster(ClusterMessage message, TimeSpan? timeout)
    {
        var flags = new BroadcastFlags((message.Flags & ClusterMessageFlags.Volatile) != 0, Local: true, null);
        var ackId = nsp.NextAckId();
        var packet = PacketEncoder.EventFromData(nsp.Name, message.Data.Span, message.Attachments, ackId);
        var collector = new RemoteAckCollector(timeout, nsp.Server.TimeProvider);
        var count = Deliver(packet, null, message.Selection, flags, ackId, collector);
        collector.Seal(count);
        return collector.Task;
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

    private async ValueTask BroadcastOneAsync(string eventName, object?[] args, RoomSelection selection, BroadcastFlags flags, BroadcastAckCollector? collector)
    {
        int? ackId = collector is null ? null : nsp.NextAckId();
        var packet = PacketEncoder.Event(nsp.Name, eventName, args, ackId, nsp.Server.JsonOptions);
        if (collector is null && nsp.RecoveryLog is { } log)
        {
            await BroadcastRecoverableAsync(log, packet, (eventName, args), selection, flags).ConfigureAwait(false);
            return;
        }

        Deliver(packet, (eventName, args), selection, flags, ackId, collector);
        if (flags.Local)
        {
            return;
        }

        var message = MessageOf(packet, selection, flags);
        if (collector is null)
        {
            await nsp.Cluster.BroadcastAsync(message).ConfigureAwait(false);
        }
        else
        {
            collector.AddGateways(nsp.Cluster.BroadcastWithAcksAsync(message, flags.Timeout));
        }
    }

    private Task BroadcastRecoverableAsync(NamespaceLog log, EncodedPacket packet, (string, object?[]) outgoing, RoomSelection selection, BroadcastFlags flags)
    {
        var message = MessageOf(packet, selection, flags);
        var (data, attachments) = (message.Data, message.Attachments);
        if (flags.Volatile || flags.Local)
        {
            // Never replayed: delivered with the offset each gateway is at, without a place in the sequence.
            lock (log.Lock)
            {
                Deliver(WithOffset(data, attachments, log.VectorLocked), outgoing, selection, flags, null, null);
            }

            return flags.Local ? Task.CompletedTask : nsp.Cluster.BroadcastAsync(message);
        }

        lock (log.Lock)
        {
            var (sequenced, vector) = log.PublishLocked(message, nsp.Cluster.Self);
            Deliver(WithOffset(data, attachments, vector), outgoing, selection, flags, null, null);
            return nsp.Cluster.IsDetached ? Task.CompletedTask : nsp.Cluster.Sequenced.SendLocked(log, sequenced);
        }
    }

    // The broadcast as the other gateways get it: its selection, its flags, and the packet's data encoded once.
    private ClusterMessage MessageOf(EncodedPacket packet, RoomSelection selection, BroadcastFlags flags) => new()
    {
        Type = ClusterMessageType.Broadcast,
        Namespace = nsp.Name,
        Rooms = [.. selection.Rooms],
        Except = [.. selection.Except],
        Flags = flags.Volatile ? ClusterMessageFlags.Volatile : ClusterMessageFlags.None,
        Data = PacketEncoder.DataOf(packet),
        Attachments = packet.AttachmentPayloads(),
    };

    private int Deliver(
        EncodedPacket packet,
        (string Name, object?[] Args)? outgoing,
        RoomSelection selection,
        BroadcastFlags flags,
        int? ackId,
        IAckReceiver? acks)
    {
        // Taken, not borrowed: an outgoing listener that broadcasts again on this thread gets a list of its own.
        var targets = t_targets ?? [];
        t_targets = null;
        try
        {
            nsp.Table.Select(selection, targets);
            foreach (var socket in targets)
            {
                if (outgoing is { } o && socket.HasOutgoingHandlers)
                {
                    socket.NotifyOutgoing(o.Name, o.Args);
                }

                if (acks is BroadcastAckCollector collector)
                {
                    // Registered under its lock so the collector knows how many answers to wait for.
                    collector.AddLocal(socket, ackId!.Value);
                }
                else if (acks is not null)
                {
                    socket.RegisterAck(ackId!.Value, acks);
                }

                socket.SendBroadcast(packet, flags.Volatile);
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
