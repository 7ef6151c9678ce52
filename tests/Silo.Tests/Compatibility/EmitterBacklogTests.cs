using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OrleansRooms.Silo.Compatibility;
using OrleansRooms.Silo.Tests.Infrastructure;
using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Compatibility;

/// <summary>A gateway's memory stays bounded under a flood on the emitter channels: past the backlog limit, messages are dropped unread.</summary>
public sealed class EmitterBacklogTests
{
    [Fact]
    public async Task A_flood_past_the_backlog_limit_is_dropped_unread_counted_and_logged_and_the_gateway_hears_what_follows()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var gateway = await GatewayNode.StartAsync(services =>
        {
            services.AddRedisEmitterListener(new ConfigurationBuilder().Build());
            services.Configure<RedisEmitterOptions>(options =>
            {
                options.Redis = redis.ConnectionString;
                options.MaxBacklog = 1;
            });
        });
        using var logs = LogCapture.Attach(gateway.Services);
        using var rejected = new MeterWatch(gateway.Services, EmitterMetrics.MeterName, EmitterMetrics.RejectedName);
        await using var client = await TestClient.ConnectAsync(gateway.Url);
        var (channel, payload) = Assert.Single(await OfficialEmitter.CaptureAsync("""emitter.of("/nobody").emit("flood", "x".repeat(100));"""));

        // One script publishes them all at once: they reach the gateway faster than it decodes.
        await redis.SendAsync("EVAL", "for i = 1, 2000 do redis.call('PUBLISH', ARGV[1], ARGV[2]) end", 0, channel, payload);
        await OfficialEmitter.RunAsync(redis, """emitter.emit("after the flood");""");

        await client.ExpectEventAsync("after the flood");
        await logs.WaitForAsync(e => e.EventId == 207);
        await logs.WaitForAsync(e => e.EventId == 208);
        Assert.InRange(rejected.Total("reason=backlog;"), 1, 2000);
    }
}
