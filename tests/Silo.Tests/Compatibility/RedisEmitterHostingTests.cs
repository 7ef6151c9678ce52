using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansRooms.Silo.Compatibility;
using OrleansRooms.Silo.Tests.Infrastructure;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Compatibility;

/// <summary>Where the listener of the official emitter's channels takes its Redis from, and where it does not run.</summary>
public sealed class RedisEmitterHostingTests
{
    [Fact]
    public void By_default_it_listens_on_the_membership_store_when_the_cluster_is_on_Redis()
    {
        var options = Options(new() { ["Orleans:Clustering:ProviderType"] = "Redis", ["Orleans:Clustering:ConnectionString"] = "redis:6379" });

        Assert.Equal("redis:6379", options.Redis);
        Assert.Equal("socket.io", options.Key);
        Assert.Equal(10_000, options.MaxBacklog);
        Assert.True(options.IsEnabled);
    }

    [Fact]
    public void A_named_connection_string_of_the_cluster_is_followed()
    {
        var options = Options(new()
        {
            ["Orleans:Clustering:ProviderType"] = "Redis",
            ["Orleans:Clustering:ConnectionName"] = "membership",
            ["ConnectionStrings:membership"] = "redis:7000",
        });

        Assert.Equal("redis:7000", options.Redis);
    }

    [Fact]
    public void Its_own_section_wins_and_an_empty_Redis_or_Key_turns_it_off()
    {
        var cluster = new Dictionary<string, string?> { ["Orleans:Clustering:ProviderType"] = "Redis", ["Orleans:Clustering:ConnectionString"] = "redis:6379" };

        Assert.Equal("emitters:6379", Options(new(cluster) { ["SocketIO:Emitter:Redis"] = "emitters:6379", ["SocketIO:Emitter:Key"] = "my-app" }).Redis);
        Assert.False(Options(new(cluster) { ["SocketIO:Emitter:Redis"] = "" }).IsEnabled);
        Assert.False(Options(new(cluster) { ["SocketIO:Emitter:Key"] = "" }).IsEnabled);
        Assert.False(Options(new() { ["Orleans:Clustering:ProviderType"] = "AdoNet" }).IsEnabled);
    }

    [Theory]
    [InlineData("SocketIO:Emitter:MaxBacklog", "0", "MaxBacklog must be at least 1")]
    [InlineData("SocketIO:Emitter:Redis", "localhost,nonsense=1", "not a StackExchange.Redis configuration string")]
    public void Invalid_options_stop_the_host_with_a_message_naming_them(string key, string value, string message)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Options(new() { [key] = value }));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public async Task A_silo_without_a_gateway_does_not_listen()
    {
        await using var redis = await RedisServer.StartAsync();
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["SocketIO:Emitter:Redis"] = redis.ConnectionString });
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Services.AddRedisEmitterListener(builder.Configuration);
        using var host = builder.Build();
        using var logs = LogCapture.Attach(host.Services);

        await host.StartAsync();
        await host.StopAsync();

        Assert.Contains(logs.Entries, e => e.EventId == 209 && e.Message.Contains("hosts no gateway", StringComparison.Ordinal));
        Assert.Equal(0L, (long)await redis.SendAsync("PUBSUB", "NUMPAT"));
    }

    private static RedisEmitterOptions Options(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddRedisEmitterListener(configuration);
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<RedisEmitterOptions>>().Value;
    }
}
