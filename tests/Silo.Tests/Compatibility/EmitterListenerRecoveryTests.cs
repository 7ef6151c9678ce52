using OrleansRooms.Silo.Tests.Infrastructure;
using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Compatibility;

/// <summary>
/// The gateways' subscriptions to the official emitter's channels outlive Redis: when redis-server dies and comes back,
/// or is down when the gateways start, they hear the emitter again once it is up. Each test has its own redis-server
/// and two gateways, since it kills the server.
/// </summary>
public sealed class EmitterListenerRecoveryTests
{
    [Fact]
    public async Task The_gateways_hear_the_emitter_again_after_redis_server_restarts()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var cluster = new OrleansGatewayCluster(gateways: 2) { EmitterRedis = redis.ConnectionString };
        await cluster.StartAsync();
        var logs = cluster.Gateways.Select(g => LogCapture.Attach(g.Services)).ToList();
        await using var first = await TestClient.ConnectAsync(cluster.Gateways[0].Url);
        await using var second = await TestClient.ConnectAsync(cluster.Gateways[1].Url);

        redis.Kill();
        foreach (var log in logs)
        {
            await log.WaitForAsync(e => e.EventId == 203);
        }

        await redis.RestartAsync();
        foreach (var log in logs)
        {
            await log.WaitForAsync(e => e.EventId == 202);
        }

        await OfficialEmitter.RunAsync(redis, """emitter.emit("after restart");""");
        await first.ExpectEventAsync("after restart");
        await second.ExpectEventAsync("after restart");
        logs.ForEach(l => l.Dispose());
    }

    [Fact]
    public async Task Gateways_started_while_redis_is_down_start_and_listen_once_it_is_up()
    {
        await using var redis = await RedisServer.StartAsync();
        redis.Kill();
        await using var cluster = new OrleansGatewayCluster(gateways: 2) { EmitterRedis = redis.ConnectionString + ",connectTimeout=500" };
        await cluster.StartAsync();
        var logs = cluster.Gateways.Select(g => LogCapture.Attach(g.Services)).ToList();
        await using var first = await TestClient.ConnectAsync(cluster.Gateways[0].Url);
        await using var second = await TestClient.ConnectAsync(cluster.Gateways[1].Url);

        await redis.RestartAsync();
        foreach (var log in logs)
        {
            // Listening (201) once subscribed by the retry, or listening again (202) when the connection came back first.
            await log.WaitForAsync(e => e.EventId == 201);
        }

        await OfficialEmitter.RunAsync(redis, """emitter.emit("hello");""");
        await first.ExpectEventAsync("hello");
        await second.ExpectEventAsync("hello");
        logs.ForEach(l => l.Dispose());
    }
}
