using System.Collections.Concurrent;
using System.Text;
using OrleansRooms.Silo.Redis;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Redis;

public sealed class ClusterReconnectTests
{
    [Fact]
    public async Task A_restarted_master_is_reconnected_and_its_shard_subscriptions_restored()
    {
        await using var cluster = await RedisClusterServers.StartAsync(3);
        await using var client = await RedisClient.ConnectAsync(cluster.CreateOptions());
        var victim = cluster.Nodes[1];
        string key = await KeyOwnedByAsync(cluster, victim, "victim:");
        var received = new ConcurrentQueue<string>();
        await client.SSubscribeAsync(key, m => received.Enqueue(Encoding.UTF8.GetString(m.Payload.Span)));
        var reconnected = new ConcurrentQueue<RedisConnectionEventArgs>();
        client.Reconnected += reconnected.Enqueue;

        victim.Kill();
        await Assert.ThrowsAsync<RedisConnectionException>(async () =>
        {
            // The first command may be in flight when the socket dies; either way it fails as a connection error.
            await client.ExecuteAsync(RedisCommand.WithKey("SET", key, "v"));
            await client.ExecuteAsync(RedisCommand.WithKey("SET", key, "v"));
        }).WaitAsync(TimeSpan.FromSeconds(10));

        // Other masters keep serving their slots.
        string other = await KeyOwnedByAsync(cluster, cluster.Nodes[0], "survivor:");
        Assert.Equal("OK", (await client.ExecuteAsync(RedisCommand.WithKey("SET", other, "v"))).AsString());

        // Restarted with its nodes.conf it rejoins as the same master of the same slots.
        await cluster.RestartNodeAsync(victim);
        await Wait.UntilAsync(() => reconnected.Count(r => r.Endpoint == victim.Endpoint) >= 2, "both connections to the restarted master are back");

        Assert.Equal("OK", (await client.ExecuteAsync(RedisCommand.WithKey("SET", key, "again"))).AsString());
        Assert.Equal(1, await client.SPublishAsync(key, "after restart"u8.ToArray()));
        await Wait.UntilAsync(() => received.Contains("after restart"), "the restored shard subscription received the message");
    }

    private static async Task<string> KeyOwnedByAsync(RedisClusterServers cluster, RedisServer node, string prefix)
    {
        for (int i = 0; ; i++)
        {
            if (await cluster.GetOwnerAsync(RedisHashSlot.Of(prefix + i)) == node)
            {
                return prefix + i;
            }
        }
    }
}
