using OrleansRooms.Silo.Emitter;
using OrleansRooms.Silo.Tests.Infrastructure;
using OrleansRooms.Specification;
using static OrleansRooms.Silo.Tests.Infrastructure.EmitterCluster;

namespace OrleansRooms.Silo.Tests.Emitter;

/// <summary>
/// The C# <see cref="SocketIOEmitter"/>, on the test cluster's Orleans client (a process that is not a gateway),
/// reaches the sockets of three gateways: read like the Socket.IO emitter docs, one test per operation.
/// </summary>
[Collection(EmitterCollection.Name)]
public sealed class SocketIOEmitterTests(EmitterCluster world)
{
    private readonly SocketIOEmitter _emitter = new(world.Cluster.Orleans.Client);

    [Fact]
    public async Task Emit_reaches_every_socket_on_every_gateway()
    {
        await using var clients = await world.ConnectEverywhereAsync();

        await _emitter.EmitAsync("time", new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero), new { Greeting = "hi" });

        foreach (var client in clients.All)
        {
            var e = await client.ExpectEventAsync("time");
            Assert.Equal("2024-01-02T03:04:05+00:00", e[0].GetString());
            Assert.Equal("hi", e[1].GetProperty("greeting").GetString());
        }
    }

    [Fact]
    public async Task Rooms_with_members_on_several_gateways_reach_each_member_exactly_once()
    {
        var room1 = Room("room1");
        var room2 = Room("room2");
        await using var inBoth = await world.ConnectEverywhereAsync("/", room1, room2);
        await using var inRoom2 = await world.ConnectEverywhereAsync("/", room2);
        await using var inNone = await world.ConnectEverywhereAsync();

        await _emitter.To(room1).To(room2).EmitAsync("some event", 1);
        await _emitter.EmitAsync("marker");

        foreach (var member in inBoth.All.Concat(inRoom2.All))
        {
            Assert.Equal(1, (await member.ExpectEventAsync("some event"))[0].GetInt32());
            await member.ExpectNothingBeforeAsync("marker");
        }

        foreach (var outsider in inNone.All)
        {
            await outsider.ExpectNothingBeforeAsync("marker");
        }
    }

    [Fact]
    public async Task A_room_on_one_gateway_reaches_its_members_there()
    {
        var room = Room("local");
        await using var member = await world.ConnectEverywhereAsync();
        await member.SocketOf(1).JoinAsync(room);

        await _emitter.In(room).EmitAsync("some event");
        await _emitter.EmitAsync("marker");

        await member[1].ExpectEventAsync("some event");
        await member[0].ExpectNothingBeforeAsync("marker");
        await member[2].ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task To_a_socket_id_reaches_that_socket_on_its_gateway()
    {
        await using var clients = await world.ConnectEverywhereAsync();

        await _emitter.To(clients[2].Id).EmitAsync("private");
        await _emitter.EmitAsync("marker");

        await clients[2].ExpectEventAsync("private");
        await clients[0].ExpectNothingBeforeAsync("marker");
        await clients[1].ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task Except_excludes_the_sockets_of_a_room_on_every_gateway()
    {
        var excludedRoom = Room("excluded");
        await using var excluded = await world.ConnectEverywhereAsync("/", excludedRoom);
        await using var included = await world.ConnectEverywhereAsync();

        await _emitter.Except(excludedRoom).EmitAsync("some event");
        await _emitter.EmitAsync("marker");

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

        await _emitter.Of("admin").EmitAsync("hi", "admins");
        await _emitter.Of("/admin").EmitAsync("marker");
        await _emitter.EmitAsync("marker");

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

        await _emitter.Volatile.EmitAsync("tick", 1);

        foreach (var client in clients.All)
        {
            Assert.Equal(1, (await client.ExpectEventAsync("tick"))[0].GetInt32());
        }
    }

    [Fact]
    public async Task Binary_arguments_reach_the_official_client_as_binary_top_level_and_nested()
    {
        await using var node = await NodeSession.StartAsync(BinaryReceivers.Script("""console.log("ready");"""), world.NodeEnvironment());
        Assert.Equal("ready", await node.NextLineAsync());

        await _emitter.EmitAsync("file", new byte[] { 1, 2, 3 }, new { Name = "f", Parts = new object[] { new byte[] { 4 }, new ReadOnlyMemory<byte>([5, 6]) } });

        for (var i = 0; i < world.Gateways.Count; i++)
        {
            Assert.Equal(BinaryReceivers.Expected, await node.NextLineAsync());
        }

        await node.WaitForSuccessAsync();
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
            await _emitter.In(room1).SocketsJoinAsync(room2);
            await joined.AllAsync();
        }

        Assert.All(Enumerable.Range(0, members.Count), i => Assert.Contains(room2, members.SocketOf(i).Rooms));
        Assert.All(Enumerable.Range(0, outsiders.Count), i => Assert.DoesNotContain(room2, outsiders.SocketOf(i).Rooms));

        using (var left = RoomChanges.Watch(world, members, room2, join: false))
        {
            await _emitter.In(room1).SocketsLeaveAsync([room2]);
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

        await _emitter.In(room).DisconnectSocketsAsync();
        await _emitter.In(closing).DisconnectSocketsAsync(close: true);
        await _emitter.EmitAsync("marker");

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
    public async Task ServerSideEmit_reaches_OnServerSideEmit_on_every_gateway_binary_included()
    {
        var name = Room("hello");
        var received = world.Gateways.Select(gateway =>
        {
            var done = new TaskCompletionSource<ServerSideEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
            gateway.Io.Of("/").OnServerSideEmit(name, e => done.TrySetResult(e));
            return done.Task;
        }).ToList();

        await _emitter.ServerSideEmitAsync(name, "world", new byte[] { 7, 8 });

        foreach (var e in await Task.WhenAll(received).WaitAsync(TestClient.DefaultWait))
        {
            Assert.Equal("world", e.Get<string>(0));
            Assert.Equal([7, 8], e.Get<byte[]>(1));
            Assert.False(e.HasAck);
        }
    }

    [Fact]
    public void Operators_are_immutable_and_chain_in_any_order()
    {
        var admins = _emitter.Of("admin").To("room1");
        var both = admins.In(["room2", "room1"]).Except("room3").Volatile;

        Assert.Equal("/admin", both.Namespace);
        Assert.Equal(["room1", "room2"], both.Rooms);
        Assert.Equal(["room3"], both.ExceptRooms);
        Assert.Equal(["room1"], admins.Rooms);
        Assert.Empty(admins.ExceptRooms);
    }

    [Fact]
    public async Task Reserved_event_names_and_rooms_on_a_server_side_emit_are_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _emitter.EmitAsync("disconnect").AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _emitter.To("room1").EmitAsync("connect").AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _emitter.ServerSideEmitAsync("").AsTask());
        await Assert.ThrowsAsync<InvalidOperationException>(() => _emitter.To("room1").ServerSideEmitAsync("hello").AsTask());
    }
}
