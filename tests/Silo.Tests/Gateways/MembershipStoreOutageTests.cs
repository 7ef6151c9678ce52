using System.Diagnostics;
using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Gateways;

/// <summary>Three gateways whose Orleans membership lives in a real redis-server, and that server going away for a while.</summary>
public sealed class MembershipStoreOutageTests : IAsyncLifetime, IAsyncDisposable
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(10);
    private readonly List<TestClient> _clients = [];
    private RedisServer _redis = null!;
    private OrleansGatewayCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        // The membership table must survive a restart of its store: append-only file, synced on every write.
        _redis = await RedisServer.StartAsync(null, ["--appendonly", "yes", "--appendfsync", "always"]);
        _cluster = new OrleansGatewayCluster(gateways: 3)
        {
            RedisMembership = _redis,
            // Every silo writes its I-am-alive row each second, so the outage is felt by the membership service.
            Membership = new Dictionary<string, string> { ["IAmAliveTablePublishTimeout"] = "00:00:01" },
        };
        await _cluster.StartAsync();
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        await _cluster.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task While_the_membership_store_is_down_broadcasts_between_running_gateways_keep_flowing_and_none_is_lost()
    {
        var receivers = new List<TestClient>();
        for (var i = 0; i < 3; i++)
        {
            var node = _cluster.Gateways[i];
            var client = await TestClient.ConnectAsync(node.Url);
            _clients.Add(client);
            await node.Io.Sockets.Sockets[client.Id].JoinAsync("room");
            receivers.Add(client);
        }

        _redis.Kill();
        var sent = 0;
        for (var outage = Stopwatch.StartNew(); outage.Elapsed < Outage; sent++)
        {
            await _cluster.Gateways[sent % 3].Io.To("room").EmitAsync("n", sent);
            foreach (var client in receivers)
            {
                Assert.Equal(sent, (await client.ExpectEventAsync("n"))[0].GetInt32());
            }
        }

        // Membership changes wait for the store, the relation does not: a join during the outage is cluster-wide at once.
        var joining = _cluster.Gateways[1].Io.Sockets.Sockets[receivers[1].Id];
        await joining.JoinAsync("joined during the outage");
        await _cluster.Gateways[2].Io.To("joined during the outage").EmitAsync("still one cluster");
        await receivers[1].ExpectEventAsync("still one cluster");

        await _redis.RestartAsync();
        var added = await _cluster.AddGatewayAsync();
        await added.Io.To("room").EmitAsync("after the outage");
        foreach (var client in receivers)
        {
            await client.ExpectEventAsync("after the outage");
        }

        Assert.True(sent > 10, $"only {sent} broadcasts were sent during the outage");
    }
}
