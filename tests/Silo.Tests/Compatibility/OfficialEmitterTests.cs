using System.Text;
using OrleansRooms.Silo.Compatibility;
using OrleansRooms.Silo.Tests.Infrastructure;
using OrleansRooms.Specification;
using static OrleansRooms.Silo.Tests.Infrastructure.EmitterCluster;

namespace OrleansRooms.Silo.Tests.Compatibility;

/// <summary>
/// The official <c>@socket.io/redis-emitter</c>, unchanged and run by node, reaches the sockets of three gateways
/// through a real redis-server: the "outside world" examples of the Socket.IO docs, one test each. Every gateway hears
/// every message and carries it out on its own sockets.
/// </summary>
[Collection(EmitterCollection.Name)]
public sealed class OfficialEmitterTests(EmitterCluster world)
{
    [Fact]
    public async Task Emit_reaches_every_socket_on_every_gateway()
    {
        await using var clients = await world.ConnectEverywhereAsync();

        await OfficialEmitter.RunAsync(world.Redis, """emitter.emit("time", new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)));""");

        foreach (var client in clients.All)
        {
            Assert.Equal("2024-01-02T03:04:05.678Z", (await client.ExpectEventAsync("time"))[0].GetString());
        }
    }

    [Fact]
    public async Task To_rooms_reaches_each_member_once_whatever_its_gateway()
    {
        var room1 = Room("room1");
        var room2 = Room("room2");
        await using var inBoth = await world.ConnectEverywhereAsync("/", room1, room2);
        await using var inRoom2 = await world.ConnectEverywhereAsync("/", room2);
        await using var inNone = await world.ConnectEverywhereAsync();

        await OfficialEmitter.RunAsync(world.Redis, $$"""
            emitter.to("{{room1}}").to("{{room2}}").emit("some event", { hello: "rooms" });
            emitter.emit("marker");
            """);

        foreach (var member in inBoth.All.Concat(inRoom2.All))
        {
            Assert.Equal("rooms", (await member.ExpectEventAsync("some event"))[0].GetProperty("hello").GetString());
            await member.ExpectNothingBeforeAsync("marker");
        }

        foreach (var outsider in inNone.All)
        {
            await outsider.ExpectNothingBeforeAsync("marker");
        }
    }

    [Fact]
    public async Task Except_excludes_the_sockets_of_a_room_on_every_gateway()
    {
        var excludedRoom = Room("excluded");
        await using var excluded = await world.ConnectEverywhereAsync("/", excludedRoom);
        await using var included = await world.ConnectEverywhereAsync();

        await OfficialEmitter.RunAsync(world.Redis, $$"""
            emitter.except("{{excludedRoom}}").emit("some event");
            emitter.emit("marker");
            """);

        foreach (var client in included.All)
        {
            await client.ExpectEventAsync("some event");
        }

        foreach (var client in excluded.All)
        {
            await client.ExpectNothingBeforeAsync("marker");
        }
    }

    [Fact]
    public async Task Of_a_namespace_emits_to_its_sockets_only()
    {
        await using var admins = await world.ConnectEverywhereAsync("/admin");
        await using var main = await world.ConnectEverywhereAsync();

        await OfficialEmitter.RunAsync(world.Redis, """
            emitter.of("/admin").emit("hi", "admins");
            emitter.of("/admin").emit("marker");
            emitter.emit("marker");
            """);

        foreach (var admin in admins.All)
        {
            Assert.Equal("admins", (await admin.ExpectEventAsync("hi"))[0].GetString());
            await admin.ExpectNothingBeforeAsync("marker");
        }

        foreach (var client in main.All)
        {
            await client.ExpectNothingBeforeAsync("marker");
        }
    }

    [Fact]
    public async Task Volatile_events_reach_sockets_ready_for_them()
    {
        await using var clients = await world.ConnectEverywhereAsync();

        await OfficialEmitter.RunAsync(world.Redis, """emitter.volatile.emit("tick", 1);""");

        foreach (var client in clients.All)
        {
            Assert.Equal(1, (await client.ExpectEventAsync("tick"))[0].GetInt32());
        }
    }

    [Fact]
    public async Task Binary_arguments_reach_the_official_client_as_binary_top_level_and_nested()
    {
        var output = await NodeCompat.RunScriptAsync(BinaryReceivers.Script("""
            const { createClient } = await import("redis");
            const { Emitter } = await import("@socket.io/redis-emitter");
            const redisClient = createClient({ url: process.env.REDIS_URL });
            await redisClient.connect();
            new Emitter(redisClient).emit("file", Buffer.from([1, 2, 3]), { name: "f", parts: [Buffer.from([4]), new Uint8Array([5, 6])] });
            await redisClient.quit();
            """), world.NodeEnvironment());

        Assert.Equal(Enumerable.Repeat(BinaryReceivers.Expected, world.Gateways.Count), output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task SocketsJoin_and_SocketsLeave_apply_to_the_matching_sockets_on_every_gateway()
    {
        var room1 = Room("room1");
        var room2 = Room("room2");
        await using var members = await world.ConnectEverywhereAsync("/", room1);
        await using var outsiders = await world.ConnectEverywhereAsync();

        using (var joined = RoomChanges.Watch(world, members, room2, join: true))
        {
            await OfficialEmitter.RunAsync(world.Redis, $$"""emitter.in("{{room1}}").socketsJoin("{{room2}}");""");
            await joined.AllAsync();
        }

        Assert.All(Enumerable.Range(0, members.Count), i => Assert.Contains(room2, members.SocketOf(i).Rooms));
        Assert.All(Enumerable.Range(0, outsiders.Count), i => Assert.DoesNotContain(room2, outsiders.SocketOf(i).Rooms));
        await OfficialEmitter.RunAsync(world.Redis, $$"""
            emitter.to("{{room2}}").emit("in room2");
            emitter.emit("marker");
            """);
        foreach (var member in members.All)
        {
            await member.ExpectEventAsync("in room2");
            await member.ExpectNothingBeforeAsync("marker");
        }

        foreach (var outsider in outsiders.All)
        {
            await outsider.ExpectNothingBeforeAsync("marker");
        }

        using (var left = RoomChanges.Watch(world, members, room2, join: false))
        {
            await OfficialEmitter.RunAsync(world.Redis, $$"""emitter.in("{{room1}}").socketsLeave(["{{room2}}"]);""");
            await left.AllAsync();
        }

        Assert.All(Enumerable.Range(0, members.Count), i => Assert.DoesNotContain(room2, members.SocketOf(i).Rooms));
    }

    [Fact]
    public async Task DisconnectSockets_disconnects_the_matching_sockets_on_every_gateway()
    {
        var room = Room("leaving");
        var closing = Room("closing");
        await using var members = await world.ConnectEverywhereAsync("/", room);
        await using var closed = await world.ConnectEverywhereAsync("/", closing);
        await using var outsiders = await world.ConnectEverywhereAsync();

        await OfficialEmitter.RunAsync(world.Redis, $$"""
            emitter.in("{{room}}").disconnectSockets();
            emitter.in("{{closing}}").disconnectSockets(true);
            emitter.emit("marker");
            """);

        foreach (var member in members.All)
        {
            Assert.Equal("io server disconnect", await member.Disconnected.WaitAsync(TestClient.DefaultWait));
        }

        foreach (var member in closed.All)
        {
            await member.Closed.WaitAsync(TestClient.DefaultWait);
        }

        foreach (var outsider in outsiders.All)
        {
            await outsider.ExpectEventAsync("marker");
        }
    }

    [Fact]
    public async Task Requests_are_carried_out_in_publish_order_with_the_emits_a_disconnect_after_emits_comes_after_them()
    {
        var room = Room("ordered");
        await using var members = await world.ConnectEverywhereAsync("/", room);

        await OfficialEmitter.RunAsync(world.Redis, $$"""
            for (let i = 0; i < 200; i++) emitter.to("{{room}}").emit("n", i);
            emitter.in("{{room}}").disconnectSockets();
            """);

        foreach (var member in members.All)
        {
            for (var i = 0; i < 200; i++)
            {
                Assert.Equal(i, (await member.ExpectEventAsync("n"))[0].GetInt32());
            }

            Assert.Equal("io server disconnect", await member.Disconnected.WaitAsync(TestClient.DefaultWait));
        }
    }

    [Fact]
    public async Task ServerSideEmit_reaches_OnServerSideEmit_on_every_gateway()
    {
        var name = Room("hello");
        var received = world.Gateways.Select(gateway =>
        {
            var done = new TaskCompletionSource<ServerSideEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
            gateway.Io.Of("/").OnServerSideEmit(name, e => done.TrySetResult(e));
            return done.Task;
        }).ToList();

        await OfficialEmitter.RunAsync(world.Redis, $$"""emitter.serverSideEmit("{{name}}", "world", { n: 1 });""");

        foreach (var e in await Task.WhenAll(received).WaitAsync(TestClient.DefaultWait))
        {
            Assert.Equal("world", e.Get<string>(0));
            Assert.Equal(1, e.Arguments[1].GetProperty("n").GetInt32());
            Assert.False(e.HasAck);
        }
    }

    [Fact]
    public async Task Other_keys_are_not_heard_even_those_starting_like_the_gateways_key()
    {
        await using var clients = await world.ConnectEverywhereAsync();

        await OfficialEmitter.RunAsync(world.Redis, """emitter.emit("other key");""", emitterOptions: """{ key: "other-app" }""");
        await OfficialEmitter.RunAsync(world.Redis, """emitter.emit("other key"); emitter.serverSideEmit("x");""", emitterOptions: """{ key: "socket.io2" }""");
        await OfficialEmitter.RunAsync(world.Redis, """emitter.emit("marker");""");

        foreach (var client in clients.All)
        {
            await client.ExpectNothingBeforeAsync("marker");
        }
    }

    [Fact]
    public async Task A_bad_message_is_dropped_counted_and_logged_escaped_and_the_gateway_keeps_working()
    {
        await using var clients = await world.ConnectEverywhereAsync();
        var logs = world.Gateways.Select(g => LogCapture.Attach(g.Services)).ToList();
        using var rejected = new MeterWatch(world.Gateways[0].Services, EmitterMetrics.MeterName, EmitterMetrics.RejectedName);
        using var received = new MeterWatch(world.Gateways[0].Services, EmitterMetrics.MeterName, EmitterMetrics.ReceivedName);
        try
        {
            await world.Redis.SendAsync("PUBLISH", "socket.io#/\nforged log line#", new byte[] { 0x93, 0xc1 });
            await world.Redis.SendAsync("PUBLISH", "socket.io-request#/#", Encoding.UTF8.GetBytes("{\"type\":5}"));
            await OfficialEmitter.RunAsync(world.Redis, """emitter.emit("after");""");

            foreach (var client in clients.All)
            {
                await client.ExpectEventAsync("after");
            }

            foreach (var log in logs)
            {
                var broadcast = await log.WaitForAsync(e => e.EventId == 205 && e.Message.Contains("socket.io#/", StringComparison.Ordinal));
                Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, broadcast.Level);
                Assert.Contains(@"socket.io#/\u000aforged log line#", broadcast.Message, StringComparison.Ordinal);
                Assert.DoesNotContain('\n', broadcast.Message);
                await log.WaitForAsync(e => e.EventId == 205 && e.Message.Contains("request type 5", StringComparison.Ordinal));
            }

            await rejected.WaitForAsync(2, "reason=malformed;");
            await received.WaitForAsync(3);
        }
        finally
        {
            logs.ForEach(l => l.Dispose());
        }
    }
}
