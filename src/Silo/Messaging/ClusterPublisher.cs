using System.Buffers;
using System.Collections.Concurrent;
using OrleansRooms.Grains;
using OrleansRooms.Silo.Grains;
using OrleansRooms.Silo.Redis;

namespace OrleansRooms.Silo.Messaging;

/// <summary>
/// Routes and publishes <see cref="ClusterMessage"/>s: a message naming rooms goes once to each gateway hosting a
/// member of any of them (the union of the rooms' routing sets), a namespace-wide one goes once on the shared channel.
/// Used by the gateway and by emitters that publish without being a gateway (pass no <c>self</c>).
/// The message is encoded once into a pooled buffer that every publish of it shares.
/// </summary>
internal sealed class ClusterPublisher(RedisClient client, ClusterKeys keys)
{
    // Channel names of gateways seen recently, so a publish does not format them each time.
    private readonly ConcurrentDictionary<string, string> _channels = new(StringComparer.Ordinal);

    public ClusterKeys Keys { get; } = keys;

    /// <summary>
    /// Publishes <paramref name="message"/> to every gateway hosting a socket in <see cref="ClusterMessage.Rooms"/> other
    /// than <paramref name="self"/>, or on the all-gateways channel when no room is named (receivers ignore their own).
    /// Returns how many gateways it was sent to (for a namespace-wide message: how many subscribers received it,
    /// the sender excluded when it is subscribed).
    /// </summary>
    public async Task<int> PublishAsync(ClusterMessage message, string? self, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Rooms.Count == 0)
        {
            long received = await PublishOnceAsync(Keys.AllChannel, message, cancellationToken);
            return (int)Math.Max(0, self is null ? received : received - 1);
        }

        var targets = await GetTargetGatewaysAsync(message.Namespace, message.Rooms, self, cancellationToken);
        if (targets.Count == 0)
        {
            return 0;
        }

        byte[] buffer = ClusterMessageCodec.EncodePooled(message, out int length);
        var payload = new ReadOnlyMemory<byte>(buffer, 0, length);
        var publishes = new Task[targets.Count];
        int i = 0;
        foreach (var gateway in targets)
        {
            publishes[i++] = PublishRawAsync(ChannelOf(gateway), payload, cancellationToken);
        }

        await Task.WhenAll(publishes);
        // Only on success: a command that failed or timed out may still be written later from this buffer.
        ArrayPool<byte>.Shared.Return(buffer);
        return targets.Count;
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
