using System.Text.Json;
using OrleansRooms.Cluster;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Protocol;
using OrleansRooms.Rooms;

namespace OrleansRooms;

/// <summary>
/// A broadcast being described: the rooms it targets (union), the rooms it excludes, and its flags. Immutable: each
/// method returns a new operator, so a chain such as <c>io.To("a").To("b").Except("c")</c> can be kept and reused.
/// </summary>
public sealed class BroadcastOperator
{
    private readonly Namespace _namespace;
    private readonly string[] _rooms;
    private readonly string[] _except;
    private readonly BroadcastFlags _flags;

    internal BroadcastOperator(Namespace nsp, string[] rooms, string[] except, BroadcastFlags flags)
    {
        _namespace = nsp;
        _rooms = rooms;
        _except = except;
        _flags = flags;
    }

    /// <summary>Targets the sockets of this node only (no effect on a single node).</summary>
    public BroadcastOperator Local => With(_flags with { Local = true });

    /// <summary>Emits without guarantee: a socket whose connection cannot take the packet right now misses it.</summary>
    public BroadcastOperator Volatile => With(_flags with { Volatile = true });

    /// <summary>Adds <paramref name="room"/> to the targets; a socket in several targeted rooms gets the event once.</summary>
    public BroadcastOperator To(string room)
    {
        ArgumentNullException.ThrowIfNull(room);
        return To([room]);
    }

    /// <summary>Adds each of <paramref name="rooms"/> to the targets.</summary>
    public BroadcastOperator To(IEnumerable<string> rooms) => new(_namespace, RoomList.Add(_rooms, rooms), _except, _flags);

    /// <summary>Same as <see cref="To(string)"/>.</summary>
    public BroadcastOperator In(string room) => To(room);

    /// <summary>Same as <see cref="To(IEnumerable{string})"/>.</summary>
    public BroadcastOperator In(IEnumerable<string> rooms) => To(rooms);

    /// <summary>Excludes the sockets in <paramref name="room"/>.</summary>
    public BroadcastOperator Except(string room)
    {
        ArgumentNullException.ThrowIfNull(room);
        return Except([room]);
    }

    /// <summary>Excludes the sockets in any of <paramref name="rooms"/>.</summary>
    public BroadcastOperator Except(IEnumerable<string> rooms) => new(_namespace, _rooms, RoomList.Add(_except, rooms), _flags);

    /// <summary>
    /// Whether the event may be compressed (default true): with false it is sent uncompressed even to sockets that
    /// negotiated <c>permessage-deflate</c>. Compression applies only when enabled (<c>PerMessageDeflate</c>).
    /// </summary>
    public BroadcastOperator Compress(bool compress) => With(_flags with { Uncompressed = !compress });

    /// <summary>Sets how long <see cref="EmitWithAckAsync"/> waits for the acknowledgements.</summary>
    public BroadcastOperator Timeout(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        return With(_flags with { Timeout = timeout });
    }

    /// <summary>Sends event <paramref name="eventName"/> to every targeted socket. The packet is encoded once.</summary>
    public ValueTask EmitAsync(string eventName, params object?[] args)
    {
        EventNames.ThrowIfReserved(eventName);
        ArgumentNullException.ThrowIfNull(args);
        return _namespace.Broadcaster.BroadcastAsync(eventName, args, Selection, _flags, null);
    }

    /// <summary>
    /// Sends event <paramref name="eventName"/> to every targeted socket and returns their acknowledgements (each
    /// one's arguments) once all answered or disconnected.
    /// </summary>
    /// <exception cref="BroadcastAckTimeoutException">
    /// Some did not answer within <see cref="Timeout"/>, or else <see cref="SocketIOOptions.AckTimeout"/>; it carries the answers received.
    /// </exception>
    public async ValueTask<IReadOnlyList<SocketArguments>> EmitWithAckAsync(string eventName, params object?[] args)
    {
        EventNames.ThrowIfReserved(eventName);
        ArgumentNullException.ThrowIfNull(args);
        var flags = _flags.Timeout is null ? _flags with { Timeout = _namespace.Server.Options.AckTimeout } : _flags;
        var collector = new BroadcastAckCollector(flags.Timeout, _namespace.Server.TimeProvider, _namespace.Server.JsonOptions);
        collector.Start();
        await _namespace.Broadcaster.BroadcastAsync(eventName, args, Selection, flags, collector).ConfigureAwait(false);
        return await collector.Task.ConfigureAwait(false);
    }

    /// <summary>Returns the targeted sockets, wherever they are connected (this node only with <see cref="Local"/>).</summary>
    public async ValueTask<IReadOnlyList<RemoteSocket>> FetchSocketsAsync()
    {
        var result = new List<RemoteSocket>();
        foreach (var socket in _namespace.Broadcaster.SelectLocal(Selection))
        {
            result.Add(new RemoteSocket(socket));
        }

        if (!_flags.Local)
        {
            foreach (var nsp in Targets())
            {
                var answers = await nsp.Cluster.AskAsync(
                    [.. _rooms],
                    gateway => gateway.FetchSocketsAsync(nsp.Name, [.. _rooms], [.. _except]),
                    ReadOnlyMemory<byte>.Empty).ConfigureAwait(false);
                foreach (var answer in answers)
                {
                    if (answer.IsEmpty)
                    {
                        continue;
                    }

                    var reader = new Utf8JsonReader(answer.Span);
                    foreach (var element in JsonElement.ParseValue(ref reader).EnumerateArray())
                    {
                        result.Add(SocketDescriptor.Read(nsp, element));
                    }
                }
            }
        }

        return result;
    }

    /// <summary>Makes the targeted sockets join <paramref name="room"/>.</summary>
    public ValueTask SocketsJoinAsync(string room)
    {
        ArgumentNullException.ThrowIfNull(room);
        return SocketsJoinAsync([room]);
    }

    /// <summary>Makes the targeted sockets join each of <paramref name="rooms"/>; completes when every gateway has applied it.</summary>
    public async ValueTask SocketsJoinAsync(IEnumerable<string> rooms)
    {
        var list = RoomList.From(rooms);
        await _namespace.Receiver.ApplyAsync(ClusterMessageType.SocketsJoin, Selection, list, ClusterMessageFlags.None).ConfigureAwait(false);
        await ApplyRemotelyAsync(ClusterMessageType.SocketsJoin, list, ClusterMessageFlags.None).ConfigureAwait(false);
    }

    /// <summary>Makes the targeted sockets leave <paramref name="room"/>.</summary>
    public ValueTask SocketsLeaveAsync(string room)
    {
        ArgumentNullException.ThrowIfNull(room);
        return SocketsLeaveAsync([room]);
    }

    /// <summary>Makes the targeted sockets leave each of <paramref name="rooms"/>; completes when every gateway has applied it.</summary>
    public async ValueTask SocketsLeaveAsync(IEnumerable<string> rooms)
    {
        var list = RoomList.From(rooms);
        await _namespace.Receiver.ApplyAsync(ClusterMessageType.SocketsLeave, Selection, list, ClusterMessageFlags.None).ConfigureAwait(false);
        await ApplyRemotelyAsync(ClusterMessageType.SocketsLeave, list, ClusterMessageFlags.None).ConfigureAwait(false);
    }

    /// <summary>Disconnects the targeted sockets; with <paramref name="close"/>, closes their connections too.</summary>
    public async ValueTask DisconnectSocketsAsync(bool close = false)
    {
        var flags = close ? ClusterMessageFlags.Close : ClusterMessageFlags.None;
        await _namespace.Receiver.ApplyAsync(ClusterMessageType.DisconnectSockets, Selection, [], flags).ConfigureAwait(false);
        await ApplyRemotelyAsync(ClusterMessageType.DisconnectSockets, [], flags).ConfigureAwait(false);
    }

    private RoomSelection Selection => new(_rooms, _except);

    private async ValueTask ApplyRemotelyAsync(ClusterMessageType type, string[] targetRooms, ClusterMessageFlags flags)
    {
        if (_flags.Local)
        {
            return;
        }

        foreach (var nsp in Targets())
        {
            var message = new ClusterMessage
            {
                Type = type,
                Namespace = nsp.Name,
                Rooms = [.. _rooms],
                Except = [.. _except],
                TargetRooms = [.. targetRooms],
                Flags = flags,
            };
            await nsp.Cluster.AskAsync(message.Rooms, async gateway => { await gateway.ApplyAsync(message).ConfigureAwait(false); return true; }, true).ConfigureAwait(false);
            if (nsp.RecoveryLog is not null)
            {
                // Sockets whose connection dropped take it too: they are recovered in the rooms joined for them meanwhile.
                await nsp.Cluster.ApplyToSuspendedAsync(message).ConfigureAwait(false);
            }
        }
    }

    // Other gateways know a dynamic parent's children, not the parent: a request goes once per child.
    private IEnumerable<Namespace> Targets() => _namespace.Children is { } children ? children.Values : [_namespace];

    private BroadcastOperator With(BroadcastFlags flags) => new(_namespace, _rooms, _except, flags);
}

/// <summary>The flags of a broadcast.</summary>
internal readonly record struct BroadcastFlags(bool Volatile, bool Local, TimeSpan? Timeout, bool Uncompressed = false);
