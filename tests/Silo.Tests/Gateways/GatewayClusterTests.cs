using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrleansRooms.Emitter;
using OrleansRooms.Silo.Tests.Compatibility;
using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Gateways;

/// <summary>
/// Several gateways on one Redis, through real clients: failures (a killed gateway, a clean stop, Redis restarted
/// empty or unreachable), growth, and messages from processes that are not gateways.
/// </summary>
public sealed class GatewayClusterTests : IAsyncLifetime, IAsyncDisposable
{
    private readonly List<TestClient> _clients = [];
    private readonly RedisGatewayCluster _cluster = new(gateways: 2);

    private RedisServer Redis => _cluster.Redis!;

    public Task InitializeAsync() => _cluster.StartAsync();

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task A_killed_gateways_sockets_leave_their_rooms_within_the_lease_and_others_stay()
    {
        var (staying, stayingSocket) = await ConnectAsync(0);
        var (_, doomedSocket) = await ConnectAsync(1);
        await stayingSocket.JoinAsync("room");
        await doomedSocket.JoinAsync(["room", "other"]);
        var survivor = _cluster.Gateways[0];
        var adapter = survivor.Io.Sockets.Adapter;
        var events = new System.Collections.Concurrent.ConcurrentQueue<string>();
        adapter.LeaveRoom += (room, id) => events.Enqueue($"leave-room {room} {id}");
        adapter.DeleteRoom += room => events.Enqueue($"delete-room {room}");

        var clock = Stopwatch.StartNew();
        await _cluster.KillGatewayAsync(_cluster.Gateways[1]);
        await RedisGatewayCluster.WaitUntilAsync(
            async () => (await adapter.GetRoomMembersAsync("room")).Count == 1,
            TimeSpan.FromSeconds(10),
            "the killed gateway's socket left the room");
        clock.Stop();

        // The bound is the lease plus one heartbeat (the reaper runs on heartbeats); leave room for a slow machine.
        Assert.True(clock.Elapsed < _cluster.LeaseDuration + _cluster.HeartbeatInterval + TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.Equal([stayingSocket.Id], await adapter.GetRoomMembersAsync("room"));
        Assert.Empty(await adapter.GetRoomMembersAsync("other"));
        Assert.Empty(await adapter.GetSocketRoomsAsync(doomedSocket.Id));
        await RedisGatewayCluster.WaitUntilAsync(() => Task.FromResult(events.Count == 5), TimeSpan.FromSeconds(5), "the reaper raised the room events");
        Assert.Equal(
            new HashSet<string>
            {
                $"leave-room room {doomedSocket.Id}", $"leave-room other {doomedSocket.Id}", $"leave-room {doomedSocket.Id} {doomedSocket.Id}",
                "delete-room other", $"delete-room {doomedSocket.Id}",
            },
            events.ToHashSet());
        await survivor.Io.To("room").EmitAsync("still here");
        await staying.ExpectEventAsync("still here");
    }

    [Fact]
    public async Task A_gateway_that_stops_cleanly_removes_its_sockets_at_once()
    {
        var (_, stayingSocket) = await ConnectAsync(0);
        var (_, leavingSocket) = await ConnectAsync(1);
        await stayingSocket.JoinAsync("room");
        await leavingSocket.JoinAsync("room");

        await _cluster.StopGatewayAsync(_cluster.Gateways[1]);

        Assert.Equal([stayingSocket.Id], await _cluster.Gateways[0].Io.Sockets.Adapter.GetRoomMembersAsync("room"));
    }

    [Fact]
    public async Task A_gateway_added_later_takes_part_in_broadcasts()
    {
        var (first, firstSocket) = await ConnectAsync(0);
        await firstSocket.JoinAsync("room");
        var added = await _cluster.AddGatewayAsync();
        var (late, lateSocket) = await ConnectAsync(_cluster.Gateways.Count - 1);
        await lateSocket.JoinAsync("room");

        await _cluster.Gateways[0].Io.To("room").EmitAsync("hello");

        await first.ExpectEventAsync("hello");
        await late.ExpectEventAsync("hello");
        Assert.Same(added, _cluster.Gateways[^1]);
    }

    [Fact]
    public async Task After_Redis_restarts_empty_the_gateways_republish_and_broadcasts_resume()
    {
        var (_, a) = await ConnectAsync(0);
        var (remote, b) = await ConnectAsync(1);
        await a.JoinAsync("room");
        await b.JoinAsync("room");
        var adapter = _cluster.Gateways[0].Io.Sockets.Adapter;

        await Redis.RestartAsync();
        await RedisGatewayCluster.WaitUntilAsync(
            async () => await TryCountAsync(adapter, "room") == 2,
            TimeSpan.FromSeconds(15),
            "both gateways re-published their sockets");

        Assert.Equal(new HashSet<string> { a.Id, "room" }, (await adapter.GetSocketRoomsAsync(a.Id)).ToHashSet());
        await _cluster.Gateways[0].Io.To("room").EmitAsync("after restart");
        await remote.ExpectEventAsync("after restart");
    }

    [Fact]
    public async Task While_Redis_is_unreachable_local_delivery_works_and_the_cluster_reports_degraded()
    {
        var (local, localSocket) = await ConnectAsync(0);
        var (remote, remoteSocket) = await ConnectAsync(1);
        await localSocket.JoinAsync("room");
        await remoteSocket.JoinAsync("room");
        var gateway = _cluster.Gateways[0];
        var health = gateway.Services.GetRequiredService<HealthCheckService>();

        Redis.Kill();
        await gateway.Io.To("room").EmitAsync("local only");
        await local.ExpectEventAsync("local only");
        await localSocket.JoinAsync("joined while cut off");
        await RedisGatewayCluster.WaitUntilAsync(
            async () => (await health.CheckHealthAsync()).Status == HealthStatus.Degraded,
            TimeSpan.FromSeconds(10),
            "the health check reports the cluster degraded");

        await Redis.RestartAsync();
        await RedisGatewayCluster.WaitUntilAsync(
            async () => (await health.CheckHealthAsync()).Status == HealthStatus.Healthy
                && await TryCountAsync(gateway.Io.Sockets.Adapter, "room") == 2,
            TimeSpan.FromSeconds(15),
            "the cluster is healthy again with its state restored");

        Assert.Contains("joined while cut off", await gateway.Io.Sockets.Adapter.GetSocketRoomsAsync(localSocket.Id));
        await gateway.Io.To("room").EmitAsync("reunited");
        await remote.ExpectEventAsync("reunited");
    }

    [Fact]
    public async Task The_official_redis_emitter_reaches_sockets_on_every_gateway()
    {
        var (first, a) = await ConnectAsync(0);
        var (second, b) = await ConnectAsync(1);
        var (outsider, _) = await ConnectAsync(0);
        await a.JoinAsync("some room");
        await b.JoinAsync("some room");

        // The "outside world" example of the Socket.IO rooms documentation, with the official emitter unchanged.
        await OfficialEmitter.RunAsync(Redis, """
            emitter.to("some room").emit("time", "12:00");
            emitter.emit("to everyone");
            """);

        Assert.Equal("12:00", (await first.ExpectEventAsync("time"))[0].GetString());
        Assert.Equal("12:00", (await second.ExpectEventAsync("time"))[0].GetString());
        await first.ExpectNothingBeforeAsync("to everyone");
        await second.ExpectNothingBeforeAsync("to everyone");
        await outsider.ExpectNothingBeforeAsync("to everyone");
    }

    [Fact]
    public async Task The_official_redis_emitter_can_make_sockets_join_rooms_cluster_wide()
    {
        var (first, a) = await ConnectAsync(0);
        var (second, b) = await ConnectAsync(1);

        await OfficialEmitter.RunAsync(Redis, """emitter.socketsJoin("everyone");""");
        await RedisGatewayCluster.WaitUntilAsync(
            async () => (await _cluster.Gateways[0].Io.Sockets.Adapter.GetRoomMembersAsync("everyone")).Count == 2,
            TimeSpan.FromSeconds(10),
            "both sockets joined");

        await _cluster.Gateways[1].Io.To("everyone").EmitAsync("joined");
        await first.ExpectEventAsync("joined");
        await second.ExpectEventAsync("joined");
        Assert.Contains("everyone", a.Rooms);
        Assert.Contains("everyone", b.Rooms);
    }

    [Fact]
    public async Task The_CSharp_emitter_reaches_sockets_on_every_gateway_with_targeted_routing()
    {
        var (first, a) = await ConnectAsync(0);
        var (second, b) = await ConnectAsync(1);
        await a.JoinAsync("room");
        await b.JoinAsync("room");
        var options = new SocketIOEmitterOptions { KeyPrefix = "orleansrooms" };
        options.Redis.Endpoints.Add(Redis.Endpoint);
        await using var emitter = new SocketIOEmitter(options);

        await emitter.To("room").EmitAsync("from outside", 42);

        Assert.Equal(42, (await first.ExpectEventAsync("from outside"))[0].GetInt32());
        Assert.Equal(42, (await second.ExpectEventAsync("from outside"))[0].GetInt32());
    }

    [Fact]
    public async Task ServerSideEmit_reaches_the_other_servers_and_collects_their_acks()
    {
        await _cluster.AddGatewayAsync();
        foreach (var gateway in _cluster.Gateways)
        {
            var name = RedisGatewayCluster.GatewayIdOf(gateway);
            gateway.Io.Sockets.OnServerSideEmit("hello", e => e.Ack(name + ":" + e.Get<string>(0)));
        }

        var responses = await _cluster.Gateways[0].Io.Sockets.ServerSideEmitWithAckAsync("hello", "world");

        var expected = _cluster.Gateways.Skip(1).Select(g => RedisGatewayCluster.GatewayIdOf(g) + ":world").Order();
        Assert.Equal(expected, responses.Select(r => r.Get<string>(0)!).Order());
    }

    private async Task<(TestClient Client, Socket Socket)> ConnectAsync(int gateway)
    {
        var node = _cluster.Gateways[gateway];
        var client = await TestClient.ConnectAsync(node.Url);
        _clients.Add(client);
        return (client, node.Io.Sockets.Sockets[client.Id]);
    }

    private static async Task<int> TryCountAsync(Adapter adapter, string room)
    {
        try
        {
            return (await adapter.GetRoomMembersAsync(room)).Count;
        }
        catch (Exception ex) when (ex is OrleansRooms.Silo.Redis.RedisConnectionException or TimeoutException or OrleansRooms.Silo.Redis.RedisServerException)
        {
            return -1;
        }
    }
}
