using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Gateways;

/// <summary>Socket.IO delivers a server's emits to a socket in order; on a sharded Redis Cluster too.</summary>
public sealed class RedisClusterOrderingTests(SharedRedisCluster redis) : IClassFixture<SharedRedisCluster>
{
    [Fact]
    public async Task Room_and_namespace_wide_broadcasts_from_one_gateway_arrive_in_the_order_they_were_emitted()
    {
        await using var cluster = new RedisGatewayCluster(redis.Servers, gateways: 2);
        await cluster.StartAsync();
        await using var client = await TestClient.ConnectAsync(cluster.Gateways[1].Url);
        await cluster.Gateways[1].Io.Sockets.Sockets[client.Id].JoinAsync("room");
        var io = cluster.Gateways[0].Io;

        // Alternate a room broadcast and a namespace-wide one: they must not overtake each other on the way.
        for (var i = 0; i < 80; i += 2)
        {
            await io.To("room").EmitAsync("n", i);
            await io.EmitAsync("n", i + 1);
        }

        for (var i = 0; i < 80; i++)
        {
            Assert.Equal(i, (await client.ExpectEventAsync("n"))[0].GetInt32());
        }
    }
}
