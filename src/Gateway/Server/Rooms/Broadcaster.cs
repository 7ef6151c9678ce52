using System.Diagnostics;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Grains.Recovery;
using OrleansRooms.Hosting;
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
        var activity = GatewayActivities.Source.HasListeners() ? StartBroadcast(selection) : null;
        try
        {
            var sent = new BroadcastCounts();
            if (nsp.Children is { } children)
            {
                foreach (var child in children.Values)
                {
                    sent += await child.Broadcaster.BroadcastOneAsync(eventName, args, selection, flags, collector, activity?.Id).ConfigureAwait(false);
                }
            }
            else
            {
                sent = await BroadcastOneAsync(eventName, args, selection, flags, collector, activity?.Id).ConfigureAwait(false);
            }

            if (activity is not null)
            {
                activity.SetTag(GatewayActivities.RecipientsTag, sent.Recipients);
                if (sent.Gateways >= 0)
                {
                    activity.SetTag(GatewayActivities.GatewaysTag, sent.Gateways);
                }
            }

            collector?.Seal();
        }
        catch (Exception ex)
        {
            GatewayActivities.Fail(activity, ex);
            throw;
        }
        finally
        {
            activity?.Stop();
        }
    }

    private Activity? StartBroadcast(RoomSelection selection)
    {
        var activity = GatewayActivities.Source.StartActivity(GatewayActivities.Broadcast, ActivityKind.Producer);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(GatewayActivities.NamespaceTag, nsp.Name);
            activity.SetTag(GatewayActivities.RoomsTag, selection.Rooms.ToArray());
            if (selection.Except.Count != 0)
            {
                activity.SetTag(GatewayActivities.ExceptTag, selection.Except.ToArray());
            }
        }

        return activity;
    }

    /// <summary>Delivers a broadcast that another gateway or an emitter published.</summary>
    public void DeliverFromCluster(ClusterMessage message)
    {
        using var activity = StartDelivery(message);
        var flags = FlagsOf(message);
        int count;
        if (nsp.RecoveryLog is { } log)
        {
            lock (log.Lock)
            {
                count = Deliver(WithOffset(message.Data, message.Attachments, log.VectorLocked), null, message.Selection, flags, null, null);
            }
        }
        else
        {
            var packet = PacketEncoder.EventFromData(nsp.Name, message.Data.Span, message.Attachments, null);
            count = Deliver(packet, null, message.Selection, flags, null, null);
        }

        activity?.SetTag(GatewayActivities.RecipientsTag, count);
    }

    /// <summary>Delivers a sequenced broadcast this silo took, with the offset it was taken at (under the log's lock).</summary>
    public void DeliverSequenced(ClusterMessage message, RecoveryVector vector)
    {
        using var activity = StartDelivery(message);
        var flags = new BroadcastFlags(false, Local: true, null, (message.Flags & ClusterMessageFlags.Uncompressed) != 0);
        var count = Deliver(WithOffset(message.Data, message.Attachments, vector), null, message.Selection, flags, null, null);
        activity?.SetTag(GatewayActivities.RecipientsTag, count);
    }

    // The delivery here of a broadcast another gateway sent: a child of its broadcast span when that one was traced.
    private Activity? StartDelivery(ClusterMessage message)
    {
        var activity = GatewayActivities.StartFromMessage(GatewayActivities.Deliver, message.TraceParent);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(GatewayActivities.NamespaceTag, nsp.Name);
            activity.SetTag(GatewayActivities.RoomsTag, message.Rooms.ToArray());
            if (!message.Except.IsEmpty)
            {
                activity.SetTag(GatewayActivities.ExceptTag, message.Except.ToArray());
            }
        }

        return activity;
    }

    /// <summary>A packet of <paramref name="data"/> with <paramref name="vector"/>'s offset appended.</summary>
    public EncodedPacket WithOffset(ReadOnlyMemory<byte> data, IReadOnlyList<ReadOnlyMemory<byte>> attachments, RecoveryVector vector) =>
        PacketEncoder.EventFromData(nsp.Name, Offsets.Append(data.Span, vector.ToOffset()), attachments, null);

    /// <summary>
    /// Delivers a broadcast with acknowledgements that another gateway published; completes with this gateway's
    /// sockets' answers once all answered or disconnected, or at <paramref name="timeout"/>.
    /// </summary>
    public Task<BroadcastAcks> DeliverWithAcksFromCluster(ClusterMessage message, TimeSpan? timeout)
    {
        using var activity = StartDelivery(message);
        var flags = FlagsOf(message);
        var ackId = nsp.NextAckId();
        var packet = PacketEncoder.EventFromData(nsp.Name, message.Data.Span, message.Attachments, ackId);
        var collector = new RemoteAckCollector(timeout, nsp.Server.TimeProvider);
        var count = Deliver(packet, null, message.Selection, flags, ackId, collector);
        activity?.SetTag(GatewayActivities.RecipientsTag, count);
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

    private async ValueTask<BroadcastCounts> BroadcastOneAsync(
        string eventName, object?[] args, RoomSelection selection, BroadcastFlags flags, BroadcastAckCollector? collector, string? traceParent)
    {
        int? ackId = collector is null ? null : nsp.NextAckId();
        var packet = PacketEncoder.Event(nsp.Name, eventName, args, ackId, nsp.Server.JsonOptions);
        if (collector is null && nsp.RecoveryLog is { } log)
        {
            await BroadcastRecoverableAsync(log, packet, (eventName, args), selection, flags, traceParent, out var delivered).ConfigureAwait(false);
            return new BroadcastCounts(delivered, Gateways: -1);
        }

        var recipients = Deliver(packet, (eventName, args), selection, flags, ackId, collector);
        if (flags.Local)
        {
            return new BroadcastCounts(recipients, Gateways: 0);
        }

        var message = MessageOf(packet, selection, flags, traceParent);
        if (collector is not null)
        {
            collector.AddGateways(nsp.Cluster.BroadcastWithAcksAsync(message, flags.Timeout));
            return new BroadcastCounts(recipients, Gateways: -1);
        }

        var gateways = await nsp.Cluster.BroadcastAsync(message).ConfigureAwait(false);
        nsp.Server.Metrics.BroadcastSent(gateways);
        return new BroadcastCounts(recipients, gateways);
    }

    private Task BroadcastRecoverableAsync(
        NamespaceLog log, EncodedPacket packet, (string, object?[]) outgoing, RoomSelection selection, BroadcastFlags flags, string? traceParent, out int recipients)
    {
        var message = MessageOf(packet, selection, flags, traceParent);
        var (data, attachments) = (message.Data, message.Attachments);
        if (flags.Volatile || flags.Local)
        {
            // Never replayed: delivered with the offset each gateway is at, without a place in the sequence.
            lock (log.Lock)
            {
                recipients = Deliver(WithOffset(data, attachments, log.VectorLocked), outgoing, selection, flags, null, null);
            }

            return flags.Local ? Task.CompletedTask : nsp.Cluster.BroadcastAsync(message);
        }

        lock (log.Lock)
        {
            var (sequenced, vector) = log.PublishLocked(message, nsp.Cluster.Self);
            recipients = Deliver(WithOffset(data, attachments, vector), outgoing, selection, flags, null, null);
            return nsp.Cluster.IsDetached ? Task.CompletedTask : nsp.Cluster.Sequenced.SendLocked(log, sequenced);
        }
    }

    private static BroadcastFlags FlagsOf(ClusterMessage message) =>
        new((message.Flags & ClusterMessageFlags.Volatile) != 0, Local: true, null, (message.Flags & ClusterMessageFlags.Uncompressed) != 0);

    // The broadcast as the other gateways get it: its selection, its flags, and the packet's data encoded once.
    private ClusterMessage MessageOf(EncodedPacket packet, RoomSelection selection, BroadcastFlags flags, string? traceParent) => new()
    {
        Type = ClusterMessageType.Broadcast,
        Namespace = nsp.Name,
        Rooms = [.. selection.Rooms],
        Except = [.. selection.Except],
        Flags = (flags.Volatile ? ClusterMessageFlags.Volatile : ClusterMessageFlags.None)
            | (flags.Uncompressed ? ClusterMessageFlags.Uncompressed : ClusterMessageFlags.None),
        Data = PacketEncoder.DataOf(packet),
        Attachments = packet.AttachmentPayloads(),
        TraceParent = traceParent,
    };

    private int Deliver(
        EncodedPacket packet,
        (string Name, object?[] Args)? outgoing,
        RoomSelection selection,
        BroadcastFlags flags,
        int? ackId,
        IAckReceiver? acks)
    {
        if (flags.Uncompressed)
        {
            packet.DisableCompression();
        }

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

/// <summary>What one broadcast reached from here: sockets written to on this gateway, and other gateways that took it (-1: not known here).</summary>
internal readonly record struct BroadcastCounts(int Recipients, int Gateways)
{
    public static BroadcastCounts operator +(BroadcastCounts a, BroadcastCounts b) =>
        new(a.Recipients + b.Recipients, a.Gateways < 0 || b.Gateways < 0 ? -1 : a.Gateways + b.Gateways);
}
