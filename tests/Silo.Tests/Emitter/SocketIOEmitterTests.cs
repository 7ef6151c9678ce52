using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using OrleansRooms.Emitter;
using OrleansRooms.Grains;
using OrleansRooms.Silo.Redis;
using OrleansRooms.Silo.Tests.Compatibility;

namespace OrleansRooms.Silo.Tests.Emitter;

/// <summary>The C# emitter, read like the Socket.IO emitter docs; what it publishes is what gateways receive.</summary>
public sealed class SocketIOEmitterTests(EmitterFixture fixture) : IClassFixture<EmitterFixture>
{
    private SocketIOEmitter CreateEmitter(string key = "socket.io")
    {
        var options = new SocketIOEmitterOptions { Key = key };
        options.Redis.Endpoints.Add(fixture.Server.Endpoint);
        options.Redis.Cluster = false;
        return new SocketIOEmitter(options);
    }

    [Fact]
    public async Task Emit_reaches_every_socket_of_the_main_namespace()
    {
        await using var capture = await fixture.SubscribeAsync();
        await using var emitter = CreateEmitter();
        await emitter.EmitAsync("time", new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero));

        var message = await capture.NextAsync();
        Assert.Equal(ClusterMessageType.Broadcast, message.Type);
        Assert.Equal("/", message.Namespace);
        Assert.Empty(message.Rooms);
        Assert.Equal("""["time","2024-01-02T03:04:05+00:00"]""", Text(message.Data));
    }

    [Fact]
    public async Task Of_To_In_Except_and_Volatile_chain_and_do_not_change_the_operator_they_start_from()
    {
        await using var capture = await fixture.SubscribeAsync();
        await using var emitter = CreateEmitter();
        var admins = emitter.Of("admin").To("room1");
        var both = admins.In("room2").Except("room3").Volatile;

        await both.EmitAsync("hello", new { Greeting = "hi", Count = 2 });
        await admins.EmitAsync("again");

        var first = await capture.NextAsync();
        Assert.Equal("/admin", first.Namespace);
        Assert.Equal(["room1", "room2"], first.Rooms);
        Assert.Equal(["room3"], first.Except);
        Assert.Equal(ClusterMessageFlags.Volatile, first.Flags);
        Assert.Equal("""["hello",{"greeting":"hi","count":2}]""", Text(first.Data));

        var second = await capture.NextAsync();
        Assert.Equal(["room1"], second.Rooms);
        Assert.Empty(second.Except);
        Assert.Equal(ClusterMessageFlags.None, second.Flags);
        Assert.Equal(["room1"], admins.Rooms);
    }

    [Fact]
    public async Task Byte_array_arguments_travel_as_attachments()
    {
        await using var capture = await fixture.SubscribeAsync();
        await using var emitter = CreateEmitter();
        await emitter.To("room1").EmitAsync("files", new byte[] { 1, 2, 3 }, "name", new ReadOnlyMemory<byte>([4, 5]), null);

        var message = await capture.NextAsync();
        Assert.Equal("""["files",{"_placeholder":true,"num":0},"name",{"_placeholder":true,"num":1},null]""", Text(message.Data));
        Assert.Equal([[1, 2, 3], [4, 5]], message.Attachments.Select(a => a.ToArray()));
    }

    [Fact]
    public async Task SocketsJoin_SocketsLeave_and_DisconnectSockets_select_sockets_by_room()
    {
        await using var capture = await fixture.SubscribeAsync();
        await using var emitter = CreateEmitter();
        await emitter.In("room1").SocketsJoinAsync("room2", "room3");
        await emitter.Of("/admin").Except("room4").SocketsLeaveAsync("room5");
        await emitter.In("room6").DisconnectSocketsAsync(close: true);

        var join = await capture.NextAsync();
        Assert.Equal(ClusterMessageType.SocketsJoin, join.Type);
        Assert.Equal(["room1"], join.Rooms);
        Assert.Equal(["room2", "room3"], join.TargetRooms);
        var leave = await capture.NextAsync();
        Assert.Equal(ClusterMessageType.SocketsLeave, leave.Type);
        Assert.Equal("/admin", leave.Namespace);
        Assert.Equal(["room4"], leave.Except);
        Assert.Equal(["room5"], leave.TargetRooms);
        var disconnect = await capture.NextAsync();
        Assert.Equal(ClusterMessageType.DisconnectSockets, disconnect.Type);
        Assert.Equal(["room6"], disconnect.Rooms);
        Assert.Equal(ClusterMessageFlags.Close, disconnect.Flags);
    }

    [Fact]
    public async Task ServerSideEmit_reaches_the_servers_of_a_namespace()
    {
        await using var capture = await fixture.SubscribeAsync();
        await using var emitter = CreateEmitter();
        await emitter.Of("/admin").ServerSideEmitAsync("hello", "world", 1);

        var message = await capture.NextAsync();
        Assert.Equal(ClusterMessageType.ServerSideEmit, message.Type);
        Assert.Equal("/admin", message.Namespace);
        Assert.Equal("""["hello","world",1]""", Text(message.Data));
        await Assert.ThrowsAsync<InvalidOperationException>(() => emitter.To("room1").ServerSideEmitAsync("hello"));
    }

    [Fact]
    public async Task Reserved_event_names_are_refused()
    {
        await using var emitter = CreateEmitter();
        await Assert.ThrowsAsync<ArgumentException>(() => emitter.EmitAsync("disconnect"));
        await Assert.ThrowsAsync<ArgumentException>(() => emitter.To("room1").EmitAsync("connect"));
    }

    [Fact]
    public async Task A_broadcast_is_byte_for_byte_what_the_official_emitter_publishes()
    {
        await using var client = await RedisClient.ConnectAsync(fixture.Server.CreateOptions());
        var published = Channel.CreateUnbounded<(string Channel, byte[] Payload)>();
        await client.PSubscribeAsync("socket.io#*", m => published.Writer.TryWrite((m.Channel, m.Payload.ToArray())));

        await using (var emitter = CreateEmitter())
        {
            await emitter.Of("/admin").To("room1").Except("room2").Volatile.EmitAsync("ev", 1, "x", new byte[] { 1, 2 }, new { a = -3.5 });
        }

        var official = await NodeCompat.RunScriptAsync("""
            import notepack from "notepack.io";
            const packet = { type: 2, data: ["ev", 1, "x", Buffer.from([1, 2]), { a: -3.5 }], nsp: "/admin" };
            const opts = { rooms: ["room1"], flags: { volatile: true }, except: ["room2"] };
            console.log(notepack.encode(["emitter", packet, opts]).toString("hex"));
            """);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var (channel, payload) = await published.Reader.ReadAsync(timeout.Token);
        Assert.Equal("socket.io#/admin#room1#", channel);
        Assert.Equal(official.Trim(), Convert.ToHexStringLower(payload));
    }

    [Fact]
    public async Task With_the_cluster_key_prefix_a_namespace_wide_broadcast_goes_once_to_each_live_gateway()
    {
        await using var client = await RedisClient.ConnectAsync(fixture.Server.CreateOptions());
        var frames = Channel.CreateUnbounded<byte[]>();
        // A live gateway (lease far in the future), listening on its own channel; a dead one gets nothing.
        await client.ExecuteAsync(new RedisCommand("ZADD").Key("native-test:gateways").Arg(long.MaxValue / 2).Arg("live").Arg(1).Arg("dead"));
        await client.SubscribeAsync(new OrleansRooms.Silo.Grains.ClusterKeys("native-test").GatewayChannel("live"), m => frames.Writer.TryWrite(m.Payload.ToArray()));
        await client.SubscribeAsync(new OrleansRooms.Silo.Grains.ClusterKeys("native-test").GatewayChannel("dead"), m => frames.Writer.TryWrite(m.Payload.ToArray()));
        var options = new SocketIOEmitterOptions { KeyPrefix = "native-test" };
        options.Redis.Endpoints.Add(fixture.Server.Endpoint);
        await using (var emitter = new SocketIOEmitter(options))
        {
            await emitter.Of("/admin").Volatile.EmitAsync("hello", new byte[] { 7 });
            // A room without members anywhere: routed to no gateway at all.
            await emitter.To("empty-room").EmitAsync("nobody");
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var frame = await frames.Reader.ReadAsync(timeout.Token);
        Assert.True(OrleansRooms.Silo.Messaging.ClusterMessageCodec.TryDecode(frame, out var message));
        Assert.Equal(ClusterMessageType.Broadcast, message!.Type);
        Assert.Equal("/admin", message.Namespace);
        Assert.Equal(ClusterMessageFlags.Volatile, message.Flags);
        Assert.Equal("""["hello",{"_placeholder":true,"num":0}]""", Text(message.Data));
        Assert.False(frames.Reader.TryRead(out _));
    }

    [Fact]
    public async Task AddSocketIOEmitter_registers_one_configured_emitter()
    {
        await using var capture = await fixture.SubscribeAsync("my-app");
        var services = new ServiceCollection()
            .AddSocketIOEmitter(options =>
            {
                options.Redis.Endpoints.Add(fixture.Server.Endpoint);
                options.Key = "my-app";
            });
        await using (var provider = services.BuildServiceProvider())
        {
            var emitter = provider.GetRequiredService<SocketIOEmitter>();
            Assert.Same(emitter, provider.GetRequiredService<SocketIOEmitter>());
            await emitter.EmitAsync("from di");
        }

        Assert.Equal("""["from di"]""", Text((await capture.NextAsync()).Data));
    }

    private static string Text(ReadOnlyMemory<byte> utf8) => Encoding.UTF8.GetString(utf8.Span);
}
