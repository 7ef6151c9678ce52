using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OrleansRooms.Grains;
using OrleansRooms.Silo.Grains;
using OrleansRooms.Silo.Redis;
using OrleansRooms.Silo.Tests.Redis;

namespace OrleansRooms.Silo.Tests.Cluster;

public sealed class HostingTests(RedisServerFixture fixture) : IClassFixture<RedisServerFixture>
{
    [Fact]
    public void Options_are_bound_from_SocketIO_Redis_with_documented_defaults()
    {
        var defaults = new RedisClusterOptions();
        Assert.Equal("orleansrooms", defaults.KeyPrefix);
        Assert.Equal(TimeSpan.FromSeconds(2), defaults.HeartbeatInterval);
        Assert.Equal(TimeSpan.FromSeconds(10), defaults.LeaseDuration);
        Assert.Equal("socket.io", defaults.EmitterKey);

        using var provider = Services(new()
        {
            ["SocketIO:Redis:Endpoints:0"] = "redis-a:6379",
            ["SocketIO:Redis:Endpoints:1"] = "redis-b:6379",
            ["SocketIO:Redis:KeyPrefix"] = "chat",
            ["SocketIO:Redis:HeartbeatInterval"] = "00:00:01",
            ["SocketIO:Redis:Cluster"] = "true",
        }).BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<RedisClusterOptions>>().Value;

        Assert.Equal(["redis-a:6379", "redis-b:6379"], options.Endpoints);
        Assert.Equal("chat", options.KeyPrefix);
        Assert.Equal(TimeSpan.FromSeconds(1), options.HeartbeatInterval);
        Assert.True(options.Cluster);
    }

    [Theory]
    [InlineData("SocketIO:Redis:KeyPrefix", "my{app}", "KeyPrefix")]
    [InlineData("SocketIO:Redis:LeaseDuration", "00:00:03", "LeaseDuration")]
    [InlineData("SocketIO:Redis:HeartbeatInterval", "00:05:00", "HeartbeatInterval")]
    public void Invalid_options_are_refused(string key, string value, string named)
    {
        using var provider = Services(new() { [key] = value }).BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RedisClusterOptions>>().Value);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_Redis_grains_replace_the_in_process_ones_whichever_is_registered_first()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IRoomGrainFactory, InProcessRoomGrainFactory>();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddLogging();
        services.AddSocketIORedis();
        services.AddSocketIORedis();
        await using var provider = services.BuildServiceProvider();

        Assert.IsType<RedisRoomGrainFactory>(provider.GetRequiredService<IRoomGrainFactory>());
        Assert.Single(provider.GetServices<IRoomGrainFactory>());
        Assert.Single(provider.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations, r => r.Name == "orleansrooms-cluster");
    }

    [Fact]
    public async Task A_host_joins_at_start_reports_healthy_and_leaves_at_stop()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSocketIORedis(o =>
        {
            o.Endpoints.Add(fixture.Server.Endpoint);
            o.KeyPrefix = ClusterTestOptions.NewPrefix();
            o.HeartbeatInterval = TimeSpan.FromMilliseconds(100);
            o.LeaseDuration = TimeSpan.FromMilliseconds(500);
        });
        using var host = builder.Build();
        var factory = host.Services.GetRequiredService<RedisRoomGrainFactory>();
        var table = new RoomTable<TestGateway.Member>();
        var grains = factory.ForNamespace("/", table);

        await host.StartAsync();
        table.Add(new TestGateway.Member("s1"));
        await grains.GetSocket("s1").JoinAsync(["s1", "room"]);
        var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, health.Entries["orleansrooms-cluster"].Status);

        await host.StopAsync();

        await using var redis = await fixture.ConnectAsync();
        var members = await redis.ExecuteAsync(RedisCommand.WithKey("HKEYS", factory.Keys.RoomMembers("/", "room")));
        Assert.Empty(members.AsArray()!);
    }

    [Fact]
    public async Task A_host_does_not_start_when_Redis_is_unreachable()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSocketIORedis(o =>
        {
            o.Endpoints.Add("127.0.0.1:1");
            o.ConnectTimeout = TimeSpan.FromMilliseconds(500);
        });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("could not reach Redis at 127.0.0.1:1", error.Message, StringComparison.Ordinal);
    }

    private static ServiceCollection Services(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddLogging();
        services.AddSocketIORedis();
        return services;
    }
}
