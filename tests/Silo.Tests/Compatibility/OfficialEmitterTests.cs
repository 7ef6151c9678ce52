using System.Text;
using System.Text.Json;
using OrleansRooms.Grains;
using OrleansRooms.Silo.Redis;

namespace OrleansRooms.Silo.Tests.Compatibility;

/// <summary>
/// The official <c>@socket.io/redis-emitter</c> (run by node, unchanged) publishes to a real redis-server; an
/// <see cref="Silo.Compatibility.EmitterSubscription"/> receives and translates. One test per example of the
/// Socket.IO emitter docs.
/// </summary>
public sealed class OfficialEmitterTests(EmitterFixture fixture) : IClassFixture<EmitterFixture>
{
    [Fact]
    public async Task Emit_time_new_Date_reaches_every_socket_of_the_main_namespace()
    {
        await using var capture = await fixture.SubscribeAsync();
        await OfficialEmitter.RunAsync(fixture.Server, """emitter.emit("time", new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)));""");

        var message = await capture.NextAsync();
        Assert.Equal(ClusterMessageType.Broadcast, message.Type);
        Assert.Equal("/", message.Namespace);
        Assert.Empty(message.Rooms);
        Assert.Empty(message.Except);
        Assert.Equal(ClusterMessageFlags.None, message.Flags);
        Assert.Equal("""["time","2024-01-02T03:04:05.678Z"]""", Text(message.Data));
        Assert.Empty(message.Attachments);
    }

    [Fact]
    public async Task Emitted_arguments_become_the_json_JSON_stringify_writes()
    {
        await using var capture = await fixture.SubscribeAsync();
        var output = await OfficialEmitter.RunAsync(fixture.Server, """
            const data = ["mixed", 1, -2, 3.5, 2 ** 40, -(2 ** 40), "two ✓ 😀", { three: 3, nested: { four: [4, null, true, false] } },
              [], {}, null, undefined, new Date(0), NaN, "x".repeat(300), { 7: "seven" }];
            emitter.emit(...data);
            console.log(JSON.stringify(data));
            """);

        var message = await capture.NextAsync();
        Assert.Equal(Normalize(output.Trim()), Normalize(Text(message.Data)));
    }

    [Fact]
    public async Task To_a_room_reaches_its_members()
    {
        await using var capture = await fixture.SubscribeAsync();
        await OfficialEmitter.RunAsync(fixture.Server, """emitter.to("room1").emit("some event", { hello: "room" });""");

        var message = await capture.NextAsync();
        Assert.Equal(["room1"], message.Rooms);
        Assert.Empty(message.Except);
        Assert.Equal("""["some event",{"hello":"room"}]""", Text(message.Data));
    }

    [Fact]
    public async Task To_several_rooms_is_a_union()
    {
        await using var capture = await fixture.SubscribeAsync();
        await OfficialEmitter.RunAsync(fixture.Server, """
            emitter.to("room1").to("room2").in("room3").emit("some event");
            emitter.to(["room4", "room5"]).emit("other event");
            """);

        var first = await capture.NextAsync();
        Assert.Equal(["room1", "room2", "room3"], first.Rooms);
        Assert.Equal("""["some event"]""", Text(first.Data));
        var second = await capture.NextAsync();
        Assert.Equal(["room4", "room5"], second.Rooms);
    }

    [Fact]
    public async Task Except_excludes_rooms()
    {
        await using var capture = await fixture.SubscribeAsync();
        await OfficialEmitter.RunAsync(fixture.Server, """
            emitter.except("room1").emit("some event");
            emitter.to("room2").except(["room3", "room4"]).emit("other event");
            """);

        var first = await capture.NextAsync();
        Assert.Empty(first.Rooms);
        Assert.Equal(["room1"], first.Except);
        var second = await capture.NextAsync();
        Assert.Equal(["room2"], second.Rooms);
        Assert.Equal(["room3", "room4"], second.Except);
    }

    [Fact]
    public async Task Of_a_namespace_emits_there()
    {
        await using var capture = await fixture.SubscribeAsync();
        await OfficialEmitter.RunAsync(fixture.Server, """
            emitter.of("/admin").emit("hi", "admins");
            emitter.of("chat").to("general").emit("hi", "chat");
            """);

        var admin = await capture.NextAsync();
        Assert.Equal("/admin", admin.Namespace);
        Assert.Equal("""["hi","admins"]""", Text(admin.Data));
        var chat = await capture.NextAsync();
        Assert.Equal("/chat", chat.Namespace);
        Assert.Equal(["general"], chat.Rooms);
    }

    [Fact]
    public async Task A_buffer_argument_becomes_an_attachment()
    {
        await using var capture = await fixture.SubscribeAsync();
        await OfficialEmitter.RunAsync(fixture.Server, """emitter.emit("image", Buffer.from([1, 2, 3]), "caption");""");

        var message = await capture.NextAsync();
        Assert.Equal("""["image",{"_placeholder":true,"num":0},"caption"]""", Text(message.Data));
        Assert.Equal([1, 2, 3], Assert.Single(message.Attachments).ToArray());
    }

    [Fact]
    public async Task Nested_binary_values_are_numbered_depth_first_like_socket_io_parser()
    {
        await using var capture = await fixture.SubscribeAsync();
        await OfficialEmitter.RunAsync(fixture.Server, """
            emitter.emit("upload", { name: "a", parts: [Buffer.from("p0"), { deep: new Uint8Array([9]) }] }, Buffer.alloc(0), [Buffer.from("p2")]);
            """);

        var message = await capture.NextAsync();
        Assert.Equal(
            """["upload",{"name":"a","parts":[{"_placeholder":true,"num":0},{"deep":{"_placeholder":true,"num":1}}]},{"_placeholder":true,"num":2},[{"_placeholder":true,"num":3}]]""",
            Text(message.Data));
        Assert.Equal(["p0", "\t", "", "p2"], message.Attachments.Select(a => Encoding.Latin1.GetString(a.Span)));
    }

    [Fact]
    public async Task Volatile_is_carried_and_compress_is_ignored()
    {
        await using var capture = await fixture.SubscribeAsync();
        await OfficialEmitter.RunAsync(fixture.Server, """
            emitter.volatile.emit("tick", 1);
            emitter.to("room1").compress(false).emit("tock", 2);
            """);

        Assert.Equal(ClusterMessageFlags.Volatile, (await capture.NextAsync()).Flags);
        var compressed = await capture.NextAsync();
        Assert.Equal(ClusterMessageFlags.None, compressed.Flags);
        Assert.Equal(["room1"], compressed.Rooms);
    }

    [Fact]
    public async Task SocketsJoin_makes_the_matching_sockets_join_rooms()
    {
        await using var capture = await fixture.SubscribeAsync();
        await OfficialEmitter.RunAsync(fixture.Server, """
            emitter.socketsJoin("room1");
            emitter.of("/admin").in("room2").except("room3").socketsJoin(["room4", "room5"]);
            """);

        var all = await capture.NextAsync();
        Assert.Equal(ClusterMessageType.SocketsJoin, all.Type);
        Assert.Equal("/", all.Namespace);
        Assert.Empty(all.Rooms);
        Assert.Equal(["room1"], all.TargetRooms);
        var some = await capture.NextAsync();
        Assert.Equal("/admin", some.Namespace);
        Assert.Equal(["room2"], some.Rooms);
        Assert.Equal(["room3"], some.Except);
        Assert.Equal(["room4", "room5"], some.TargetRooms);
    }

    [Fact]
    public async Task SocketsLeave_makes_the_matching_sockets_leave_rooms()
    {
        await using var capture = await fixture.SubscribeAsync();
        await OfficialEmitter.RunAsync(fixture.Server, """emitter.in("room1").socketsLeave(["room2", "room3"]);""");

        var message = await capture.NextAsync();
        Assert.Equal(ClusterMessageType.SocketsLeave, message.Type);
        Assert.Equal(["room1"], message.Rooms);
        Assert.Equal(["room2", "room3"], message.TargetRooms);
    }

    [Fact]
    public async Task DisconnectSockets_true_closes_the_connections()
    {
        await using var capture = await fixture.SubscribeAsync();
        await OfficialEmitter.RunAsync(fixture.Server, """
            emitter.in("room1").disconnectSockets(true);
            emitter.disconnectSockets();
            """);

        var close = await capture.NextAsync();
        Assert.Equal(ClusterMessageType.DisconnectSockets, close.Type);
        Assert.Equal(["room1"], close.Rooms);
        Assert.Equal(ClusterMessageFlags.Close, close.Flags);
        var keep = await capture.NextAsync();
        Assert.Equal(ClusterMessageType.DisconnectSockets, keep.Type);
        Assert.Empty(keep.Rooms);
        Assert.Equal(ClusterMessageFlags.None, keep.Flags);
    }

    [Fact]
    public async Task ServerSideEmit_raises_an_event_on_every_server()
    {
        await using var capture = await fixture.SubscribeAsync();
        await OfficialEmitter.RunAsync(fixture.Server, """emitter.of("/admin").serverSideEmit("hello", "world", { n: 1 });""");

        var message = await capture.NextAsync();
        Assert.Equal(ClusterMessageType.ServerSideEmit, message.Type);
        Assert.Equal("/admin", message.Namespace);
        Assert.Equal("""["hello","world",{"n":1}]""", Text(message.Data));
        Assert.Equal("", message.RequestId);
    }

    [Fact]
    public async Task A_custom_key_is_honoured_and_other_keys_are_not_heard()
    {
        await using var custom = await fixture.SubscribeAsync("my-app");
        await using var standard = await fixture.SubscribeAsync();
        await OfficialEmitter.RunAsync(fixture.Server, """
            emitter.to("room1").emit("custom");
            emitter.socketsJoin("room2");
            """, emitterOptions: """{ key: "my-app" }""");

        Assert.Equal("""["custom"]""", Text((await custom.NextAsync()).Data));
        Assert.Equal(ClusterMessageType.SocketsJoin, (await custom.NextAsync()).Type);

        // What the standard key hears next is this marker, not the custom key's messages.
        await OfficialEmitter.RunAsync(fixture.Server, """emitter.emit("marker");""");
        Assert.Equal("""["marker"]""", Text((await standard.NextAsync()).Data));
    }

    [Fact]
    public async Task The_emitter_publishes_on_the_documented_channels()
    {
        await using var client = await RedisClient.ConnectAsync(fixture.Server.CreateOptions());
        var channels = System.Threading.Channels.Channel.CreateUnbounded<string>();
        await client.PSubscribeAsync("socket.io*", m => channels.Writer.TryWrite(m.Channel));
        await OfficialEmitter.RunAsync(fixture.Server, """
            emitter.emit("a");
            emitter.to("room1").emit("b");
            emitter.to("room1").to("room2").emit("c");
            emitter.of("/admin").socketsJoin("x");
            """);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var seen = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            seen.Add(await channels.Reader.ReadAsync(timeout.Token));
        }

        Assert.Equal(["socket.io#/#", "socket.io#/#room1#", "socket.io#/#", "socket.io-request#/admin#"], seen);
    }

    [Fact]
    public async Task Malformed_messages_are_dropped_and_the_subscription_keeps_working()
    {
        await using var capture = await fixture.SubscribeAsync();
        await capture.Client.PublishAsync("socket.io#/#", new byte[] { 0x93, 0xc1 });
        await capture.Client.PublishAsync("socket.io#/#", Encoding.UTF8.GetBytes("not msgpack"));
        await capture.Client.PublishAsync("socket.io-request#/#", Encoding.UTF8.GetBytes("{\"type\":"));
        await capture.Client.PublishAsync("socket.io-request#/#", Encoding.UTF8.GetBytes("{\"type\":5,\"opts\":{}}"));
        await OfficialEmitter.RunAsync(fixture.Server, """emitter.emit("after");""");

        Assert.Equal("""["after"]""", Text((await capture.NextAsync()).Data));
        Assert.False(capture.TryTakeMore(out _));
    }

    private static string Text(ReadOnlyMemory<byte> utf8) => Encoding.UTF8.GetString(utf8.Span);

    /// <summary>Re-serializes JSON so number spellings (1e-7 vs 1E-07) do not matter.</summary>
    private static string Normalize(string json) => JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement, RelaxedJson);

    private static readonly JsonSerializerOptions RelaxedJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
