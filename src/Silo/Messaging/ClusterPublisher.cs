using System.Buffers;
using System.Collections.Concurrent;
using OrleansRooms.Grains;
using OrleansRooms.Silo.Grains;
using OrleansRooms.Silo.Redis;

namespace OrleansRooms.Silo.Messaging;

/// <summary>
/// Routes and publishes <see cref="ClusterMessage"/>s: a message naming rooms goes once to each gateway hosting a
/// member of any of them (the union of the rooms' routing sets), a namespace-wide one once to each live gateway.
/// Every message from one gateway to another travels the receiver's own channel, so they arrive in the order they were
/// published even on a Redis Cluster, where different channels may live on different shards.
/// Used by the gateway and by emitters that publish without being a gateway (pass no <c>self</c>).
/// The message is encoded once into a pooled buffer that every publish of it shares.
/// </summary>
internal sealed class ClusterPublisher(RedisClient client, ClusterKeys keys)
{
    // Channel names of gateways seen recently, so a publish does not format them each time.
    private readonly ConcurrentDictionary<string, string> _channels = new(StringComparer.Ordinal);

    public ClusterKeys Keys { get; } = keys;

    /// <summary>
    /// Publishes <paramref name="message"/> to every gateway hosting a socket in <see cref="ClusterMessage.Rooms"/>, or to
    /// every live gateway when no room is named, other than <paramref name="self"/>. Returns how many gateways received
    /// it (a gateway that died and is not reaped yet receives nothing and is not counted, so no answer is awaited from it).
    /// </summary>
    public async Task<int> PublishAsync(ClusterMessage message, string? self, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var targets = message.Rooms.Count == 0
            ? await GetLiveGatewaysAsync(self, cancellationToken)
            : await GetTargetGatewaysAsync(message.Namespace, message.Rooms, self, cancellationToken);
        if (targets.Count == 0)
        {
            return 0;
        }

        byte[] buffer = ClusterMessageCodec.EncodePooled(message, out int length);
        var payload = new ReadOnlyMemory<byte>(buffer, 0, length);
        var publishes = new Task<long>[targets.Count];
        int i = 0;
        foreach (var gateway in targets)
        {
            publishes[i++] = PublishRawAsync(ChannelOf(gateway), payload, cancellationToken);
        }

        await Task.WhenAll(publishes);
        // Only on success: a command that failed or timed out may still be written later from this buffer.
        ArrayPool<byte>.Shared.Return(buffer);
        int reached = 0;
        foreach (var publish in publishes)
        {
            if (publish.Result > 0)
            {
                reached++;
            }
        }

        return reached;
    }

    /// <summary>The gateways whose lease is current, minus <paramref name="self"/>.</summary>
    public async Task<HashSet<string>> GetLiveGatewaysAsync(string? self, CancellationToken cancellationToken)
    {
        var reply = await client.EvalAsync(ClusterScripts.LiveGateways, [Keys.Gateways], [], cancellationToken);
        var gateways = new HashSet<string>(StringComparer.Ordinal);
        foreach (var gateway in reply.AsArray() ?? [])
        {
            gateways.Add(gateway.AsString()!);
        }

        if (self is not null)
        {
            gateways.Remove(self);
        }

        return gateways;
    }

    /// <summary>Sends <paramref name="message"/> to one gateway (an answer to a request).</summary>
    public Task SendAsync(string gatewayId, ClusterMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(gatewayId);
        return PublishOnceAsync(ChannelOf(gatewayId), message, cancellationToken);
    }

    /// <summary>The gateways hosting a member of any of <paramref name="rooms"/>, minus <paramref name="self"/>: the routing sets read in one pipelined batch.</summary>
    public async Task<HashSet<string>> GetTargetGatewaysAsync(string ns, IReadOnlyList<string> rooms, string? self, CancellationToken cancellationToken)
    {
        var reads = new Task<RedisReply>[rooms.Count];
        for (int i = 0; i < rooms.Count; i++)
        {
            reads[i] = client.ExecuteAsync(RedisCommand.WithKey("HKEYS", Keys.RoomGateways(ns, rooms[i])), cancellationToken);
        }

        await Task.WhenAll(reads);
        var targets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var read in reads)
        {
            foreach (var gateway in read.Result.AsArray() ?? [])
            {
                targets.Add(gateway.AsString()!);
            }
        }

        if (self is not null)
        {
            targets.Remove(self);
        }

        return targets;
    }

    /// <summary>Publishes raw bytes on a channel: PUBLISH on a standalone server, SPUBLISH (the channel's shard) in a cluster.</summary>
    public Task<long> PublishRawAsync(string channel, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        client.IsCluster ? client.SPublishAsync(channel, payload, cancellationToken) : client.PublishAsync(channel, payload, cancellationToken);

    private async Task<long> PublishOnceAsync(string channel, ClusterMessage message, CancellationToken cancellationToken)
    {
        byte[] buffer = ClusterMessageCodec.EncodePooled(message, out int length);
        long received = await PublishRawAsync(channel, new ReadOnlyMemory<byte>(buffer, 0, length), cancellationToken);
        ArrayPool<byte>.Shared.Return(buffer);
        return received;
    }

    private string ChannelOf(string gatewayId)
    {
        if (_channels.TryGetValue(gatewayId, out var channel))
        {
            return channel;
        }

        // Gateways come and go; a bounded cache is enough to skip the formatting on the hot path.
        if (_channels.Count > 4096)
        {
            _channels.Clear();
        }

        return _channels[gatewayId] = Keys.GatewayChannel(gatewayId);
    }
}
