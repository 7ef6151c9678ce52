using OrleansRooms.Silo.Tests.Infrastructure;
using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Compatibility;

/// <summary>
/// docs/production.md, "Who may publish through the emitter's Redis": the Redis users the page gives, on a real
/// redis-server. The gateway, logged in as <c>gateway</c>, hears what the official emitter publishes as <c>emitter</c>;
/// Redis refuses a publish by a user without the emitter's channels, so it never reaches a client.
/// </summary>
public sealed class EmitterAclTests
{
    [Fact]
    public async Task The_gateway_hears_the_emitter_user_and_Redis_refuses_a_user_without_the_channels()
    {
        // The page's ACL lines, but the default user: the test harness pings with it.
        await using var redis = await RedisServer.StartAsync("admin-secret",
        [
            "--user", "gateway", "on", ">gateway-secret", "~*", "&*", "+@all",
            "--user", "emitter", "on", ">emitter-secret", "resetchannels", "&socket.io*", "-@all", "+publish",
            "--user", "intruder", "on", ">intruder-secret", "resetchannels", "-@all", "+publish",
        ]);
        await using var cluster = new OrleansGatewayCluster(gateways: 1) { EmitterRedis = $"{redis.Endpoint},user=gateway,password=gateway-secret" };
        await cluster.StartAsync();
        await using var client = await TestClient.ConnectAsync(cluster.Gateways[0].Url);

        await OfficialEmitter.RunAsync(redis, """emitter.emit("allowed", 1);""", user: "emitter", password: "emitter-secret");
        var refused = await OfficialEmitter.RunAsync(redis, """
            // The emitter's own publish is not awaited: publish on its channel as it would, and see Redis's answer.
            try { await redisClient.publish("socket.io#/#", "forbidden"); console.log("published"); }
            catch (error) { console.log(String(error.message)); }
            """, user: "intruder", password: "intruder-secret");
        await OfficialEmitter.RunAsync(redis, """emitter.emit("marker");""", user: "emitter", password: "emitter-secret");

        Assert.Contains("NOPERM", refused, StringComparison.Ordinal);
        Assert.Equal(1, (await client.ExpectEventAsync("allowed"))[0].GetInt32());
        await client.ExpectNothingBeforeAsync("marker");
    }
}
