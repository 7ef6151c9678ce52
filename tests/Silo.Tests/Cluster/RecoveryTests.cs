using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrleansRooms.Grains;
using OrleansRooms.Silo.Hosting;
using OrleansRooms.Silo.Redis;
using OrleansRooms.Silo.Tests.Redis;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Cluster;

/// <summary>Losing Redis: each test owns its redis-server, since it restarts or kills it.</summary>
public sealed class RecoveryTests
{
    [Fact]
    public async Task After_Redis_restarts_empty_the_gateways_republish_and_routing_works_again()
    {
        await using var server = await RedisServer.StartAsync();
        string prefix = ClusterTestOptions.NewPrefix();
        await using var a = await TestGateway.StartAsync(ClusterTestOptions.For(server, prefix));
        await using var b = await TestGateway.StartAsync(ClusterTestOptions.For(server, prefix));
        await a.ConnectAsync("a1", "room", "a-only");
        await b.ConnectAsync("b1", "room");

        await server.RestartAsync();

        await Wait.UntilAsync(async () => await TryAsync(async () =>
            Sorted(await a.Grains.GetRoom("room").GetMembersAsync()).SequenceEqual(["a1", "b1"])
            && (await a.Grains.GetRoom("a-only").GetMembersAsync()).Count == 1), "both gateways re-published their sockets");
        Assert.Equal(["a-only", "a1", "room"], Sorted(await b.Grains.GetSocket("a1").GetRoomsAsync()));
        Assert.Equal(["a-only", "a1", "b1", "room"], Sorted(await b.Grains.GetRoomNamesAsync()));

        Assert.Equal(1, await a.Grains.PublishAsync(Broadcast(a, "room")));
        await Wait.UntilAsync(() => b.Received.Count == 1, "b received a room broadcast after the restart");
        await Wait.UntilAsync(() => HealthOf(a) == HealthStatus.Healthy, "a is healthy again");
    }

    [Fact]
    public async Task While_Redis_is_down_calls_fail_fast_and_health_is_degraded_then_state_is_restored()
    {
        await using var server = await RedisServer.StartAsync();
        string prefix = ClusterTestOptions.NewPrefix();
        await using var a = await TestGateway.StartAsync(ClusterTestOptions.For(server, prefix));
        await using var b = await TestGateway.StartAsync(ClusterTestOptions.For(server, prefix));
        using var failures = new FailureCounter(a.Metrics);
        await a.ConnectAsync("a1", "room", "left-while-down");
        await a.ConnectAsync("a2", "room");
        await b.ConnectAsync("b1", "room");
        await Wait.UntilAsync(() => HealthOf(a) == HealthStatus.Healthy, "a is healthy");

        server.Kill();

        await Wait.UntilAsync(() => HealthOf(a) == HealthStatus.Degraded, "a reports Degraded");
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<Exception>(async () => await a.Grains.PublishAsync(Broadcast(a, "room")));
        await Assert.ThrowsAnyAsync<Exception>(async () => await a.Grains.GetRoom("room").GetMembersAsync());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"failing took {clock.ElapsedMilliseconds} ms");
        Assert.True(failures.Count >= 2);

        // The local table stays authoritative while Redis is away: these changes reach Redis with the re-publish.
        a.Table.Leave("a1", ["left-while-down"]);
        a.Table.Remove("a2");
        a.Table.Add(new TestGateway.Member("a3"));
        a.Table.Join("a3", ["room"]);
        Assert.Contains("orleansrooms-cluster", RedisClusterHealthCheck.Name);
        Assert.Contains("unreachable", RedisClusterHealthCheck.Check(a.Factory).Description, StringComparison.Ordinal);

        await server.RestartAsync();

        await Wait.UntilAsync(() => HealthOf(a) == HealthStatus.Healthy && HealthOf(b) == HealthStatus.Healthy, "both gateways are healthy again");
        Assert.Equal(["a1", "a3", "b1"], Sorted(await b.Grains.GetRoom("room").GetMembersAsync()));
        Assert.Equal(["a1", "room"], Sorted(await b.Grains.GetSocket("a1").GetRoomsAsync()));
        Assert.Empty(await b.Grains.GetRoom("left-while-down").GetMembersAsync());
        Assert.Empty(await b.Grains.GetSocket("a2").GetRoomsAsync());
        Assert.Equal(1, await b.Grains.PublishAsync(Broadcast(b, "room")));
    }

    [Fact]
    public async Task Changes_made_while_cut_off_are_reconciled_when_Redis_kept_its_data()
    {
        await using var server = await RedisServer.StartAsync();
        string prefix = ClusterTestOptions.NewPrefix();
        await using var a = await TestGateway.StartAsync(ClusterTestOptions.For(server, prefix));
        await a.ConnectAsync("a1", "room", "stale");
        await a.ConnectAsync("gone", "room");

        // As if the leave and the disconnect failed to reach Redis: only the local table changed.
        a.Table.Leave("a1", ["stale"]);
        a.Table.Remove("gone");
        await a.Factory.Lease.RecoverAsync("test", CancellationToken.None);

        Assert.Equal(["a1"], Sorted(await a.Grains.GetRoom("room").GetMembersAsync()));
        Assert.Empty(await a.Grains.GetRoom("stale").GetMembersAsync());
        Assert.Empty(await a.Grains.GetSocket("gone").GetRoomsAsync());
    }

    [Fact]
    public async Task Start_up_fails_clearly_when_Redis_is_unreachable()
    {
        var options = ClusterTestOptions.For(["127.0.0.1:1"], cluster: false);
        await using var gateway = new OrleansRooms.Silo.Grains.RedisRoomGrainFactory(options);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => gateway.StartAsync());

        Assert.Contains("127.0.0.1:1", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<RedisConnectionException>(async () =>
            await gateway.ForNamespace("/", new RoomTable<TestGateway.Member>()).GetRoomNamesAsync());
    }

    private static HealthStatus HealthOf(TestGateway gateway) => RedisClusterHealthCheck.Check(gateway.Factory).Status;

    private static async Task<bool> TryAsync(Func<Task<bool>> condition)
    {
        try
        {
            return await condition();
        }
        catch (Exception ex) when (ex is RedisConnectionException or TimeoutException or RedisServerException)
        {
            return false;
        }
    }

    private static ClusterMessage Broadcast(TestGateway from, string room) => new()
    {
        Type = ClusterMessageType.Broadcast,
        Namespace = "/",
        Source = from.Id,
        Rooms = [room],
        Data = Encoding.UTF8.GetBytes("[\"ev\"]"),
    };

    private static string[] Sorted(IEnumerable<string> items) => [.. items.Order(StringComparer.Ordinal)];

    /// <summary>Counts <c>orleansrooms.cluster.failures</c> of one gateway's meter.</summary>
    private sealed class FailureCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _count;

        public FailureCounter(ClusterMetrics metrics)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter == metrics.Meter && instrument.Name == "orleansrooms.cluster.failures")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _count, value));
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }
}
