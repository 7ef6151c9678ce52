using OrleansRooms.Silo.Grains;
using OrleansRooms.Silo.Redis;
using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Gateways;

public sealed class BroadcastAckClusterTests
{
    [Fact]
    public async Task A_broadcast_ack_without_timeout_completes_when_a_reached_gateway_never_reports()
    {
        await using var cluster = new RedisGatewayCluster(gateways: 2) { ClusterRequestTimeout = TimeSpan.FromMilliseconds(500) };
        await cluster.StartAsync();
        await using var client = await TestClient.ConnectAsync(cluster.Gateways[1].Url);
        client.AutoAcks["question"] = "yes";

        // A gateway that died right after the publish reached it: a live lease, a listener on its channel, no answer.
        await using var silent = await RedisClient.ConnectAsync(cluster.Redis!.CreateOptions());
        var keys = new ClusterKeys("orleansrooms");
        await silent.ExecuteAsync(new RedisCommand("ZADD").Key(keys.Gateways).Arg(long.MaxValue / 2).Arg("silent"));
        await silent.SubscribeAsync(keys.GatewayChannel("silent"), _ => { });

        var responses = await cluster.Gateways[0].Io.EmitWithAckAsync("question").WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("yes", Assert.Single(responses).Get<string>(0));
    }
}
