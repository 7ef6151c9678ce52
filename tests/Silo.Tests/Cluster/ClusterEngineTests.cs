using System.Diagnostics;
using System.Text;
using OrleansRooms.Grains;
using OrleansRooms.Silo.Grains;
using OrleansRooms.Silo.Redis;
using OrleansRooms.Silo.Tests.Redis;

namespace OrleansRooms.Silo.Tests.Cluster;

/// <summary>
/// The room semantics every Redis deployment must give, written once and run on a standalone server and on a
/// 3-master Redis Cluster (sharded pub/sub, keys spread over slots). Each test has its own key prefix.
/// </summary>
public abstract class ClusterEngineTests
{
    private protected abstract RedisClusterOptions CreateOptions(string prefix);

    private protected abstract Task<RedisClient> ConnectRawAsync();

    private readonly string _prefix = ClusterTestOptions.NewPrefix();

    private Task<TestGateway> StartGatewayAsync(string ns = "/") => TestGateway.StartAsync(CreateOptions(_prefix), ns);

    private ClusterKeys Keys => new(_prefix);

    [Fact]
    public async Task Join_writes_both_halves_and_leave_removes_them()
    {
        await using var a = await StartGatewayAsync();
        await using var redis = await ConnectRawAsync();

        await a.ConnectAsync("s1", "room1", "room2");
        await a.ConnectAsync("s2", "room1");

        Assert.Equal(["room1", "room2", "s1"], Sorted(await a.Grains.GetSocket("s1").GetRoomsAsync()));
        Assert.Equal(["s1", "s2"], Sorted(await a.Grains.GetRoom("room1").GetMembersAsync()));
        Assert.Equal(["room1", "room2", "s1", "s2"], Sorted(await a.Grains.GetRoomNamesAsync()));
        Assert.Equal("2", await HGetAsync(redis, Keys.RoomGateways("/", "room1"), a.Id));
        Assert.Equal(a.Id, await HGetAsync(redis, Keys.RoomMembers("/", "room1"), "s1"));
        await AssertConsistentAsync(redis, a);

        await a.LeaveAsync("s1", "room1");
        Assert.Equal(["s2"], Sorted(await a.Grains.GetRoom("room1").GetMembersAsync()));
        Assert.Equal(["room2", "s1"], Sorted(await a.Grains.GetSocket("s1").GetRoomsAsync()));
        Assert.Equal("1", await HGetAsync(redis, Keys.RoomGateways("/", "room1"), a.Id));

        await a.DisconnectAsync("s2");
        Assert.Empty(await a.Grains.GetRoom("room1").GetMembersAsync());
        Assert.Empty(await a.Grains.GetSocket("s2").GetRoomsAsync());
        Assert.False(await ExistsAsync(redis, Keys.RoomGateways("/", "room1")));
        Assert.Equal(["room2", "s1"], Sorted(await a.Grains.GetRoomNamesAsync()));
        await AssertConsistentAsync(redis, a);
    }

    [Fact]
    public async Task Joining_a_room_again_changes_nothing()
    {
        await using var a = await StartGatewayAsync();
        await using var redis = await ConnectRawAsync();
        await a.ConnectAsync("s1", "room");

        await a.JoinAsync("s1", "room", "room");
        await a.Grains.GetSocket("s1").JoinAsync(["room"]);

        Assert.Equal(["s1"], Sorted(await a.Grains.GetRoom("room").GetMembersAsync()));
        Assert.Equal("1", await HGetAsync(redis, Keys.RoomGateways("/", "room"), a.Id));
        await a.LeaveAsync("s1", "room");
        await a.LeaveAsync("s1", "room");
        Assert.False(await ExistsAsync(redis, Keys.RoomGateways("/", "room")));
    }

    [Fact]
    public async Task A_room_broadcast_reaches_exactly_the_gateways_hosting_members()
    {
        await using var a = await StartGatewayAsync();
        await using var b = await StartGatewayAsync();
        await using var c = await StartGatewayAsync();
        await a.ConnectAsync("a1", "room");
        await b.ConnectAsync("b1", "room");
        await b.ConnectAsync("b2", "room", "other");
        await c.ConnectAsync("c1", "other");

        int sent = await a.Grains.PublishAsync(Broadcast(a, ["room"], "to room"));
        Assert.Equal(1, sent);
        await Wait.UntilAsync(() => b.Received.Count == 1, "b received the room broadcast");

        // A union of rooms still reaches each gateway once; the sender is never a target.
        sent = await c.Grains.PublishAsync(Broadcast(c, ["room", "other"], "to both"));
        Assert.Equal(2, sent);
        await Wait.UntilAsync(() => a.Received.Count == 1 && b.Received.Count == 2, "a and b received the union broadcast");

        await AssertNothingMoreAsync(a, b, c, a: 1, b: 2, c: 0);
        var message = b.Received.First();
        Assert.Equal("to room", Encoding.UTF8.GetString(message.Data.Span));
        Assert.Equal(a.Id, message.Source);
        Assert.Equal(["room"], message.Rooms);
    }

    [Fact]
    public async Task A_gateway_stops_receiving_a_room_once_its_last_member_left()
    {
        await using var a = await StartGatewayAsync();
        await using var b = await StartGatewayAsync();
        await a.ConnectAsync("a1");
        await b.ConnectAsync("b1", "room");
        await b.ConnectAsync("b2", "room");

        await b.LeaveAsync("b1", "room");
        Assert.Equal(1, await a.Grains.PublishAsync(Broadcast(a, ["room"], "one left")));
        await b.DisconnectAsync("b2");
        Assert.Equal(0, await a.Grains.PublishAsync(Broadcast(a, ["room"], "none left")));

        await Wait.UntilAsync(() => b.Received.Count == 1, "b received the broadcast sent while it had a member");
        Assert.Equal("one left", Encoding.UTF8.GetString(b.Received.Single().Data.Span));
    }

    [Fact]
    public async Task A_namespace_wide_broadcast_reaches_every_other_gateway_once()
    {
        await using var a = await StartGatewayAsync();
        await using var b = await StartGatewayAsync();
        await using var c = await StartGatewayAsync("/other");

        int sent = await a.Grains.PublishAsync(Broadcast(a, [], "everyone"));

        // Every gateway's subscription counts; c has not activated "/" so it drops the message.
        Assert.Equal(2, sent);
        await Wait.UntilAsync(() => b.Received.Count == 1, "b received the namespace-wide broadcast");
        await AssertNothingMoreAsync(a, b, c, a: 0, b: 1, c: 0);
    }

    [Fact]
    public async Task An_answer_sent_to_a_gateway_reaches_only_it()
    {
        await using var a = await StartGatewayAsync();
        await using var b = await StartGatewayAsync();
        await using var c = await StartGatewayAsync();

        await b.Grains.SendAsync(a.Id, new ClusterMessage
        {
            Type = ClusterMessageType.FetchSocketsResponse,
            Namespace = "/",
            Source = b.Id,
            RequestId = "req-1",
            Data = "[{\"id\":\"b1\"}]"u8.ToArray(),
        });

        await Wait.UntilAsync(() => a.Received.Count == 1, "a received the answer");
        var answer = a.Received.Single();
        Assert.Equal(ClusterMessageType.FetchSocketsResponse, answer.Type);
        Assert.Equal("req-1", answer.RequestId);
        await AssertNothingMoreAsync(a, b, c, a: 1, b: 0, c: 0);
    }

    [Fact]
    public async Task All_room_names_are_found_on_every_master()
    {
        await using var a = await StartGatewayAsync();
        await using var b = await StartGatewayAsync("/chat");
        var rooms = Enumerable.Range(0, 40).Select(i => $"room-{i}").ToArray();
        await a.ConnectAsync("s1", rooms[..20]);
        await a.ConnectAsync("s2", rooms[20..]);
        await b.ConnectAsync("elsewhere", "room-x");

        var names = await a.Grains.GetRoomNamesAsync();

        Assert.Equal(rooms.Append("s1").Append("s2").Order(StringComparer.Ordinal), Sorted(names));
    }

    [Fact]
    public async Task A_clean_stop_removes_the_gateways_sockets_and_lease_at_once()
    {
        var a = await StartGatewayAsync();
        await using var b = await StartGatewayAsync();
        await using var redis = await ConnectRawAsync();
        await a.ConnectAsync("a1", "room");
        await a.ConnectAsync("a2", "room", "solo");
        await b.ConnectAsync("b1", "room");

        await a.Factory.StopAsync();

        Assert.Equal(["b1"], Sorted(await b.Grains.GetRoom("room").GetMembersAsync()));
        Assert.Empty(await b.Grains.GetRoom("solo").GetMembersAsync());
        Assert.Empty(await b.Grains.GetSocket("a1").GetRoomsAsync());
        Assert.False(await ExistsAsync(redis, Keys.GatewaySockets(a.Id)));
        Assert.True((await redis.ExecuteAsync(RedisCommand.WithKey("ZSCORE", Keys.Gateways, a.Id))).IsNull);
        Assert.Equal(0, await b.Grains.PublishAsync(Broadcast(b, ["solo"], "gone")));
        await Assert.ThrowsAsync<RedisConnectionException>(async () => await a.Grains.GetSocket("a1").JoinAsync(["again"]));
    }

    [Fact]
    public async Task A_dead_gateways_sockets_are_reaped_within_the_lease_and_a_heartbeat()
    {
        var dead = await StartGatewayAsync();
        await using var alive = await StartGatewayAsync();
        await using var redis = await ConnectRawAsync();
        await dead.ConnectAsync("d1", "room", "dead-only");
        await dead.ConnectAsync("d2", "room");
        await alive.ConnectAsync("l1", "room");

        var clock = Stopwatch.StartNew();
        await dead.Factory.AbandonAsync();
        var abandoned = clock.Elapsed;
        await Wait.UntilAsync(async () => (await alive.Grains.GetRoom("room").GetMembersAsync()).Count == 1, "the dead gateway's sockets left the room", 5_000);
        var reaped = clock.Elapsed;

        var options = CreateOptions(_prefix);
        Assert.True(reaped < options.LeaseDuration + options.HeartbeatInterval + TimeSpan.FromMilliseconds(250), $"reaped after {reaped.TotalMilliseconds:0} ms (abandon took {abandoned.TotalMilliseconds:0} ms)");
        Assert.Equal(["l1"], Sorted(await alive.Grains.GetRoom("room").GetMembersAsync()));
        Assert.Equal(["l1", "room"], Sorted(await alive.Grains.GetSocket("l1").GetRoomsAsync()));
        Assert.Empty(await alive.Grains.GetRoom("dead-only").GetMembersAsync());
        Assert.Empty(await alive.Grains.GetSocket("d1").GetRoomsAsync());
        await Wait.UntilAsync(async () => (await redis.ExecuteAsync(RedisCommand.WithKey("ZSCORE", Keys.Gateways, dead.Id))).IsNull, "the dead lease is gone");
        Assert.False(await ExistsAsync(redis, Keys.GatewaySockets(dead.Id)));
        Assert.Equal(0, await alive.Grains.PublishAsync(Broadcast(alive, ["room"], "nobody else")));
        await AssertConsistentAsync(redis, alive);
    }

    private protected static ClusterMessage Broadcast(TestGateway from, IReadOnlyList<string> rooms, string data) => new()
    {
        Type = ClusterMessageType.Broadcast,
        Namespace = from.Grains.Namespace,
        Source = from.Id,
        Rooms = rooms,
        Data = Encoding.UTF8.GetBytes(data),
    };

    /// <summary>Invariant 1 for one gateway: every room of every socket lists the socket, hosted here, and the room's gateway count matches.</summary>
    private protected async Task AssertConsistentAsync(RedisClient redis, TestGateway gateway)
    {
        var keys = new ClusterKeys(_prefix);
        string ns = gateway.Grains.Namespace;
        var counts = new Dictionary<string, int>();
        foreach (var (socket, rooms) in gateway.Table.SnapshotSids())
        {
            Assert.Equal(rooms.Order(StringComparer.Ordinal), Sorted(await gateway.Grains.GetSocket(socket).GetRoomsAsync()));
            foreach (var room in rooms)
            {
                Assert.Equal(gateway.Id, await HGetAsync(redis, keys.RoomMembers(ns, room), socket));
                counts[room] = counts.GetValueOrDefault(room) + 1;
            }
        }

        foreach (var (room, count) in counts)
        {
            Assert.Equal(count.ToString(System.Globalization.CultureInfo.InvariantCulture), await HGetAsync(redis, keys.RoomGateways(ns, room), gateway.Id));
        }
    }

    private static async Task AssertNothingMoreAsync(TestGateway x, TestGateway y, TestGateway z, int a, int b, int c)
    {
        // Publish a marker to each and wait for it: anything stray sent before it would have arrived first.
        foreach (var gateway in new[] { x, y, z })
        {
            await x.Grains.SendAsync(gateway.Id, new ClusterMessage { Type = ClusterMessageType.ServerSideEmit, Namespace = gateway.Grains.Namespace, RequestId = "marker" });
        }

        await Wait.UntilAsync(() => new[] { x, y, z }.All(g => g.Received.Any(m => m.RequestId == "marker") || g.Grains.Namespace != x.Grains.Namespace), "markers arrived");
        Assert.Equal(a, x.Received.Count(m => m.RequestId != "marker"));
        Assert.Equal(b, y.Received.Count(m => m.RequestId != "marker"));
        Assert.Equal(c, z.Received.Count(m => m.RequestId != "marker"));
    }

    private static async Task<string?> HGetAsync(RedisClient redis, string key, string field) =>
        (await redis.ExecuteAsync(RedisCommand.WithKey("HGET", key, field))).AsString();

    private static async Task<bool> ExistsAsync(RedisClient redis, string key) =>
        (await redis.ExecuteAsync(RedisCommand.WithKey("EXISTS", key))).AsInt64() == 1;

    private protected static string[] Sorted(IEnumerable<string> items) => [.. items.Order(StringComparer.Ordinal)];
}

public sealed class StandaloneClusterEngineTests(RedisServerFixture fixture) : ClusterEngineTests, IClassFixture<RedisServerFixture>
{
    private protected override RedisClusterOptions CreateOptions(string prefix) => ClusterTestOptions.For(fixture.Server, prefix);

    private protected override Task<RedisClient> ConnectRawAsync() => fixture.ConnectAsync();
}

public sealed class RedisClusterEngineTests(RedisClusterFixture fixture) : ClusterEngineTests, IClassFixture<RedisClusterFixture>
{
    private protected override RedisClusterOptions CreateOptions(string prefix) => ClusterTestOptions.For(fixture.Cluster.Endpoints, cluster: true, prefix);

    private protected override Task<RedisClient> ConnectRawAsync() => fixture.ConnectAsync();
}
