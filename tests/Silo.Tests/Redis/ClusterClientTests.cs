using System.Collections.Concurrent;
using System.Text;
using OrleansRooms.Silo.Redis;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Redis;

/// <summary>Three masters shared by the tests of this class; tests that move slots use slots of their own.</summary>
public sealed class RedisClusterFixture : IAsyncLifetime
{
    public RedisClusterServers Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await RedisClusterServers.StartAsync(3);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    internal Task<RedisClient> ConnectAsync() => RedisClient.ConnectAsync(Cluster.CreateOptions());

    /// <summary>A key whose slot the given node owns (searching key names with the prefix).</summary>
    internal async Task<string> KeyOwnedByAsync(RedisServer node, string prefix)
    {
        for (int i = 0; ; i++)
        {
            string key = $"{prefix}{i}";
            if ((await Cluster.GetOwnerAsync(RedisHashSlot.Of(key))) == node)
            {
                return key;
            }
        }
    }

    /// <summary>Moves a slot between masters the way redis-cli --cluster reshard does; <paramref name="finish"/> false leaves it migrating.</summary>
    internal async Task MigrateSlotAsync(int slot, RedisServer from, RedisServer to, bool finish = true)
    {
        string fromId = await Cluster.GetNodeIdAsync(from);
        string toId = await Cluster.GetNodeIdAsync(to);
        Assert.Equal("OK", (await to.SendAsync("CLUSTER", "SETSLOT", slot.ToString(), "IMPORTING", fromId)).AsString());
        Assert.Equal("OK", (await from.SendAsync("CLUSTER", "SETSLOT", slot.ToString(), "MIGRATING", toId)).AsString());
        var keys = (await from.SendAsync("CLUSTER", "GETKEYSINSLOT", slot.ToString(), "1000")).AsArray()!;
        foreach (var key in keys)
        {
            var migrated = await from.SendAsync("MIGRATE", "127.0.0.1", to.Port.ToString(), key.AsString()!, "0", "5000");
            Assert.False(migrated.IsError, migrated.ToString());
        }

        if (finish)
        {
            await FinishMigrationAsync(slot, from, to);
        }
    }

    internal async Task FinishMigrationAsync(int slot, RedisServer from, RedisServer to)
    {
        string toId = await Cluster.GetNodeIdAsync(to);
        foreach (var node in new[] { to, from }.Concat(Cluster.Nodes.Where(n => n != to && n != from)))
        {
            var reply = await node.SendAsync("CLUSTER", "SETSLOT", slot.ToString(), "NODE", toId);
            Assert.False(reply.IsError, reply.ToString());
        }

        await Wait.UntilAsync(async () =>
        {
            foreach (var node in Cluster.Nodes)
            {
                if (await Cluster.GetOwnerAsync(slot, node) != to)
                {
                    return false;
                }
            }

            return true;
        }, $"every node agrees slot {slot} moved");
    }
}

public sealed class ClusterClientTests(RedisClusterFixture fixture) : IClassFixture<RedisClusterFixture>
{
    private RedisClusterServers Cluster => fixture.Cluster;

    [Fact]
    public async Task Cluster_mode_is_detected_from_the_server()
    {
        var options = Cluster.CreateOptions();
        options.Cluster = null;
        options.Endpoints.Clear();
        options.Endpoints.Add(Cluster.Nodes[1].Endpoint);

        await using var client = await RedisClient.ConnectAsync(options);

        Assert.True(client.IsCluster);
        Assert.Equal("OK", (await client.ExecuteAsync(RedisCommand.WithKey("SET", "detect:k", "v"))).AsString());
    }

    [Fact]
    public async Task Keys_spread_over_every_master_are_set_and_read_back()
    {
        await using var client = await fixture.ConnectAsync();
        var keys = Enumerable.Range(0, 300).Select(i => $"spread:{i}").ToList();

        await Task.WhenAll(keys.Select(k => client.ExecuteAsync(RedisCommand.WithKey("SET", k, "v-" + k))));
        var values = await Task.WhenAll(keys.Select(k => client.ExecuteAsync(RedisCommand.WithKey("GET", k))));

        Assert.Equal(keys.Select(k => "v-" + k), values.Select(v => v.AsString()));
        var owners = new Dictionary<string, RedisServer>();
        foreach (var key in keys)
        {
            owners[key] = await Cluster.GetOwnerAsync(RedisHashSlot.Of(key));
        }

        foreach (var node in Cluster.Nodes)
        {
            // Each node holds the keys of its slots (it would have answered MOVED for any other).
            var mine = keys.Where(k => owners[k] == node).ToList();
            Assert.NotEmpty(mine);
            foreach (var key in mine)
            {
                Assert.Equal(1, (await node.SendAsync("EXISTS", key)).AsInt64());
            }
        }
    }

    [Fact]
    public async Task Hash_slots_match_cluster_keyslot_and_hash_tags_keep_keys_together()
    {
        var node = Cluster.Nodes[0];
        string[] keys = ["foo", "bar", "somekey", "{user1000}.following", "{user1000}.followers", "foo{}{bar}", "foo{{bar}}zap", "{}", "ключ", "a{b}c{d}"];
        foreach (var key in keys.Concat(Enumerable.Range(0, 200).Select(i => $"room:{i}:members")))
        {
            Assert.Equal((await node.SendAsync("CLUSTER", "KEYSLOT", key)).AsInt64(), RedisHashSlot.Of(key));
        }

        await using var client = await fixture.ConnectAsync();
        await client.ExecuteAsync(RedisCommand.WithKey("SET", "{room:42}:a", "1"));
        await client.ExecuteAsync(RedisCommand.WithKey("SET", "{room:42}:b", "2"));
        // A multi-key command works only when both keys are on one node.
        var both = (await client.ExecuteAsync(new RedisCommand("MGET").Key("{room:42}:a").Key("{room:42}:b"))).AsArray()!;
        Assert.Equal(["1", "2"], both.Select(r => r.AsString()));
    }

    [Fact]
    public async Task A_moved_slot_is_followed_and_the_map_updated()
    {
        await using var client = await fixture.ConnectAsync();
        string key = await fixture.KeyOwnedByAsync(Cluster.Nodes[0], "moved:");
        int slot = RedisHashSlot.Of(key);
        await client.ExecuteAsync(RedisCommand.WithKey("SET", key, "before"));
        Assert.Equal(Cluster.Nodes[0].Endpoint, client.GetEndpointForSlot(slot));

        await fixture.MigrateSlotAsync(slot, Cluster.Nodes[0], Cluster.Nodes[1]);

        // The client's map still names node 0: it gets MOVED and follows it.
        Assert.Equal("before", (await client.ExecuteAsync(RedisCommand.WithKey("GET", key))).AsString());
        Assert.Equal(Cluster.Nodes[1].Endpoint, client.GetEndpointForSlot(slot));
        Assert.Equal("OK", (await client.ExecuteAsync(RedisCommand.WithKey("SET", key, "after"))).AsString());
        Assert.Equal("after", (await Cluster.Nodes[1].SendAsync("GET", key)).AsString());
    }

    [Fact]
    public async Task A_stale_map_is_corrected_by_moved()
    {
        await using var client = await fixture.ConnectAsync();
        string key = await fixture.KeyOwnedByAsync(Cluster.Nodes[2], "stale:");
        int slot = RedisHashSlot.Of(key);
        client.SetSlotOwnerForTesting(slot, Cluster.Nodes[0].Endpoint);

        Assert.Equal("OK", (await client.ExecuteAsync(RedisCommand.WithKey("SET", key, "v"))).AsString());

        Assert.Equal(Cluster.Nodes[2].Endpoint, client.GetEndpointForSlot(slot));
        Assert.Equal("v", (await Cluster.Nodes[2].SendAsync("GET", key)).AsString());
    }

    [Fact]
    public async Task Ask_is_followed_while_a_slot_is_migrating()
    {
        await using var client = await fixture.ConnectAsync();
        string key = await fixture.KeyOwnedByAsync(Cluster.Nodes[2], "ask:");
        int slot = RedisHashSlot.Of(key);
        await client.ExecuteAsync(RedisCommand.WithKey("SET", key, "migrating"));

        await fixture.MigrateSlotAsync(slot, Cluster.Nodes[2], Cluster.Nodes[0], finish: false);
        // Node 2 no longer has the key and answers ASK: the client sends ASKING + GET to node 0.
        Assert.StartsWith("ASK ", (await Cluster.Nodes[2].SendAsync("GET", key)).ErrorMessage, StringComparison.Ordinal);
        Assert.Equal("migrating", (await client.ExecuteAsync(RedisCommand.WithKey("GET", key))).AsString());
        Assert.Equal(Cluster.Nodes[2].Endpoint, client.GetEndpointForSlot(slot)); // ASK does not change the map

        await fixture.FinishMigrationAsync(slot, Cluster.Nodes[2], Cluster.Nodes[0]);
        Assert.Equal("migrating", (await client.ExecuteAsync(RedisCommand.WithKey("GET", key))).AsString());
    }

    [Fact]
    public async Task Scripts_with_keys_in_one_slot_run_on_every_node()
    {
        await using var client = await fixture.ConnectAsync();
        var script = new RedisScript("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])");
        foreach (var node in Cluster.Nodes)
        {
            string tag = await fixture.KeyOwnedByAsync(node, "tag");
            string[] keys = [$"{{{tag}}}:value", $"{{{tag}}}:count"];

            Assert.Equal(1, (await client.EvalAsync(script, [keys[0], keys[1]], ["x"])).AsInt64());
            Assert.Equal(2, (await client.EvalAsync(script, [keys[0], keys[1]], ["y"])).AsInt64());
            Assert.Equal(1, (await node.SendAsync("SCRIPT", "EXISTS", script.Sha1)).AsArray()![0].AsInt64());
            Assert.Equal("y", (await node.SendAsync("GET", keys[0])).AsString());
        }
    }

    [Fact]
    public async Task Shard_channels_on_different_nodes_are_subscribed_where_their_slot_lives()
    {
        await using var client = await fixture.ConnectAsync();
        var received = new ConcurrentDictionary<string, string>();
        var channels = new List<string>();
        foreach (var node in Cluster.Nodes)
        {
            string channel = await fixture.KeyOwnedByAsync(node, "gateway-channel:");
            channels.Add(channel);
            await client.SSubscribeAsync(channel, m => received[m.Channel] = Encoding.UTF8.GetString(m.Payload.Span));
            var numsub = (await node.SendAsync("PUBSUB", "SHARDNUMSUB", channel)).AsArray()!;
            Assert.Equal(1, numsub[1].AsInt64());
        }

        foreach (var channel in channels)
        {
            Assert.Equal(1, await client.SPublishAsync(channel, Encoding.UTF8.GetBytes("to " + channel)));
        }

        await Wait.UntilAsync(() => received.Count == channels.Count, "every shard channel received its message");
        Assert.All(channels, c => Assert.Equal("to " + c, received[c]));
    }

    [Fact]
    public async Task A_shard_subscription_follows_its_slot_to_another_node()
    {
        await using var client = await fixture.ConnectAsync();
        string channel = await fixture.KeyOwnedByAsync(Cluster.Nodes[1], "moving-channel:");
        int slot = RedisHashSlot.Of(channel);
        var received = new ConcurrentQueue<string>();
        await client.SSubscribeAsync(channel, m => received.Enqueue(Encoding.UTF8.GetString(m.Payload.Span)));

        await fixture.MigrateSlotAsync(slot, Cluster.Nodes[1], Cluster.Nodes[2]);

        // The old node drops the subscription (sunsubscribe); the client subscribes on the new owner.
        await Wait.UntilAsync(async () => (await Cluster.Nodes[2].SendAsync("PUBSUB", "SHARDNUMSUB", channel)).AsArray()![1].AsInt64() == 1,
            "the shard channel is subscribed on its new node");
        Assert.Equal(1, await client.SPublishAsync(channel, "moved"u8.ToArray()));
        await Wait.UntilAsync(() => received.Contains("moved"), "the message reached the moved subscription");
    }

    [Fact]
    public async Task Classic_pub_sub_reaches_subscribers_from_any_node()
    {
        await using var client = await fixture.ConnectAsync();
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var pattern = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await client.SubscribeAsync("cluster:broadcast", m => received.TrySetResult(Encoding.UTF8.GetString(m.Payload.Span)));
        await client.PSubscribeAsync("cluster:p:*", m => pattern.TrySetResult(m.Channel));

        // Published on another node than the one holding the subscription: the cluster bus carries it.
        await Cluster.Nodes[2].SendAsync("PUBLISH", "cluster:broadcast", "everyone");
        await Cluster.Nodes[1].SendAsync("PUBLISH", "cluster:p:1", "x");
        await client.PublishAsync("cluster:p:2", "y"u8.ToArray());

        Assert.Equal("everyone", await received.Task.WithTimeout());
        Assert.StartsWith("cluster:p:", await pattern.Task.WithTimeout(), StringComparison.Ordinal);
    }
}
