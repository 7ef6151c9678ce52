using System.Text;
using System.Text.Json;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Silo.Compatibility;
using OrleansRooms.Silo.Tests.Infrastructure;

namespace OrleansRooms.Silo.Tests.Compatibility;

/// <summary>
/// What the official <c>@socket.io/redis-emitter</c> 5.1.0 publishes (captured from the real emitter, run by node)
/// becomes the cluster message a gateway carries out; input that does not fit is refused with a reason, never thrown.
/// </summary>
public sealed class EmitterMessageTranslatorTests
{
    private static readonly EmitterChannels Channels = new(RedisEmitterOptions.DefaultKey);

    [Fact]
    public async Task Emit_time_new_Date_is_a_broadcast_to_every_socket_of_the_main_namespace()
    {
        var message = Translate(Assert.Single(await OfficialEmitter.CaptureAsync("""emitter.emit("time", new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)));""")));

        Assert.Equal(ClusterMessageType.Broadcast, message.Type);
        Assert.Equal("/", message.Namespace);
        Assert.Empty(message.Rooms);
        Assert.Empty(message.Except);
        Assert.Equal(ClusterMessageFlags.None, message.Flags);
        Assert.Equal("""["time","2024-01-02T03:04:05.678Z"]""", Text(message.Data));
        Assert.Empty(message.Attachments);
    }

    [Fact]
    public async Task Arguments_become_the_JSON_that_JSON_stringify_writes()
    {
        var published = await OfficialEmitter.CaptureAsync("""
            const data = ["mixed", 1, -2, 3.5, 2 ** 40, -(2 ** 40), 2 ** 53 - 1, 0.1, "two ✓ 😀 \n \" \\ <>&", { three: 3, nested: { four: [4, null, true, false] } },
              [], {}, null, new Date(0), new Date(-1000), NaN, Infinity, "x".repeat(300), { 7: "seven", b: "bee" }, [[[["deep"]]]]];
            emitter.emit(...data);
            console.log(JSON.stringify(["json", Buffer.from(JSON.stringify(data)).toString("hex")]));
            """);

        var json = Encoding.UTF8.GetString(published[1].Payload);
        Assert.Equal(Normalize(json), Normalize(Text(Translate(published[0]).Data)));
    }

    [Fact]
    public async Task To_and_In_name_rooms_as_a_union()
    {
        var published = await OfficialEmitter.CaptureAsync("""
            emitter.to("room1").emit("one room", { hello: "room" });
            emitter.to("room1").to("room2").in("room3").emit("three rooms");
            emitter.to(["room4", "room5"]).emit("an array");
            """);

        var one = Translate(published[0]);
        Assert.Equal<string>(["room1"], one.Rooms);
        Assert.Equal("""["one room",{"hello":"room"}]""", Text(one.Data));
        Assert.Equal<string>(["room1", "room2", "room3"], Translate(published[1]).Rooms);
        Assert.Equal<string>(["room4", "room5"], Translate(published[2]).Rooms);
    }

    [Fact]
    public async Task Except_excludes_rooms()
    {
        var published = await OfficialEmitter.CaptureAsync("""
            emitter.except("room1").emit("some event");
            emitter.to("room2").except(["room3", "room4"]).emit("other event");
            """);

        var first = Translate(published[0]);
        Assert.Empty(first.Rooms);
        Assert.Equal<string>(["room1"], first.Except);
        var second = Translate(published[1]);
        Assert.Equal<string>(["room2"], second.Rooms);
        Assert.Equal<string>(["room3", "room4"], second.Except);
    }

    [Fact]
    public async Task Of_a_namespace_emits_there()
    {
        var published = await OfficialEmitter.CaptureAsync("""
            emitter.of("/admin").emit("hi", "admins");
            emitter.of("chat").to("general").emit("hi", "chat");
            """);

        Assert.Equal("/admin", Translate(published[0]).Namespace);
        var chat = Translate(published[1]);
        Assert.Equal("/chat", chat.Namespace);
        Assert.Equal<string>(["general"], chat.Rooms);
    }

    [Fact]
    public async Task Binary_values_become_attachments_numbered_depth_first_like_socket_io_parser()
    {
        var published = await OfficialEmitter.CaptureAsync("""
            emitter.emit("image", Buffer.from([1, 2, 3]), "caption");
            emitter.emit("upload", { name: "a", parts: [Buffer.from("p0"), { deep: new Uint8Array([9]) }] }, Buffer.alloc(0), [Buffer.from("p2")]);
            """);

        var image = Translate(published[0]);
        Assert.Equal("""["image",{"_placeholder":true,"num":0},"caption"]""", Text(image.Data));
        Assert.Equal([1, 2, 3], Assert.Single(image.Attachments).ToArray());
        var upload = Translate(published[1]);
        Assert.Equal(
            """["upload",{"name":"a","parts":[{"_placeholder":true,"num":0},{"deep":{"_placeholder":true,"num":1}}]},{"_placeholder":true,"num":2},[{"_placeholder":true,"num":3}]]""",
            Text(upload.Data));
        Assert.Equal(["p0", "\t", "", "p2"], upload.Attachments.Select(a => Encoding.Latin1.GetString(a.Span)));
    }

    [Fact]
    public async Task Volatile_and_compress_false_are_carried()
    {
        var published = await OfficialEmitter.CaptureAsync("""
            emitter.volatile.emit("tick", 1);
            emitter.to("room1").compress(false).emit("tock", 2);
            emitter.to("room1").compress(true).emit("tock", 3);
            """);

        Assert.Equal(ClusterMessageFlags.Volatile, Translate(published[0]).Flags);
        Assert.Equal(ClusterMessageFlags.Uncompressed, Translate(published[1]).Flags);
        Assert.Equal(ClusterMessageFlags.None, Translate(published[2]).Flags);
    }

    [Fact]
    public async Task SocketsJoin_and_SocketsLeave_select_sockets_and_name_the_rooms()
    {
        var published = await OfficialEmitter.CaptureAsync("""
            emitter.socketsJoin("room1");
            emitter.of("/admin").in("room2").except("room3").socketsJoin(["room4", "room5"]);
            emitter.in("room1").socketsLeave(["room2", "room3"]);
            """);

        var all = Translate(published[0]);
        Assert.Equal(ClusterMessageType.SocketsJoin, all.Type);
        Assert.Equal("/", all.Namespace);
        Assert.Empty(all.Rooms);
        Assert.Equal<string>(["room1"], all.TargetRooms);
        var some = Translate(published[1]);
        Assert.Equal("/admin", some.Namespace);
        Assert.Equal<string>(["room2"], some.Rooms);
        Assert.Equal<string>(["room3"], some.Except);
        Assert.Equal<string>(["room4", "room5"], some.TargetRooms);
        var leave = Translate(published[2]);
        Assert.Equal(ClusterMessageType.SocketsLeave, leave.Type);
        Assert.Equal<string>(["room1"], leave.Rooms);
        Assert.Equal<string>(["room2", "room3"], leave.TargetRooms);
    }

    [Fact]
    public async Task DisconnectSockets_carries_close()
    {
        var published = await OfficialEmitter.CaptureAsync("""
            emitter.in("room1").disconnectSockets(true);
            emitter.disconnectSockets();
            """);

        var close = Translate(published[0]);
        Assert.Equal(ClusterMessageType.DisconnectSockets, close.Type);
        Assert.Equal<string>(["room1"], close.Rooms);
        Assert.Equal(ClusterMessageFlags.Close, close.Flags);
        var keep = Translate(published[1]);
        Assert.Empty(keep.Rooms);
        Assert.Equal(ClusterMessageFlags.None, keep.Flags);
    }

    [Fact]
    public async Task ServerSideEmit_raises_an_event_on_the_servers()
    {
        var message = Translate(Assert.Single(await OfficialEmitter.CaptureAsync("""emitter.of("/admin").serverSideEmit("hello", "world", { n: 1 });""")));

        Assert.Equal(ClusterMessageType.ServerSideEmit, message.Type);
        Assert.Equal("/admin", message.Namespace);
        Assert.Equal("""["hello","world",{"n":1}]""", Text(message.Data));
    }

    [Fact]
    public async Task A_custom_key_is_heard_on_its_own_channels_only()
    {
        var published = await OfficialEmitter.CaptureAsync("""
            emitter.to("room1").emit("custom");
            emitter.socketsJoin("room2");
            """, emitterOptions: """{ key: "my-app" }""");

        Assert.Equal(["my-app#/#room1#", "my-app-request#/#"], published.Select(p => p.Channel));
        var custom = new EmitterChannels("my-app");
        Assert.Equal("""["custom"]""", Text(Translate(published[0], custom).Data));
        Assert.Equal(ClusterMessageType.SocketsJoin, Translate(published[1], custom).Type);
        Assert.Contains("not an emitter channel", Refuse(published[0].Channel, published[0].Payload));
    }

    [Fact]
    public async Task The_emitter_publishes_on_the_channels_the_gateways_subscribe_to()
    {
        var published = await OfficialEmitter.CaptureAsync("""
            emitter.emit("a");
            emitter.to("room1").emit("b");
            emitter.to("room1").to("room2").emit("c");
            emitter.of("/admin").socketsJoin("x");
            emitter.serverSideEmit("d");
            """);

        Assert.Equal(["socket.io#/#", "socket.io#/#room1#", "socket.io#/#", "socket.io-request#/admin#", "socket.io-request#/#"], published.Select(p => p.Channel));
        Assert.Equal("socket.io*", Channels.Pattern.ToString());
        Assert.All(published, p => Assert.True(Channels.IsEmitterChannel(p.Channel)));
        Assert.False(Channels.IsEmitterChannel("socket.io-response#/#"));
        Assert.False(Channels.IsEmitterChannel("socket.io2#/#"));
        Assert.Equal(@"app\[1\]\**", new EmitterChannels("app[1]*").Pattern.ToString());
    }

    [Fact]
    public async Task Requests_in_MessagePack_are_read_like_JSON_ones()
    {
        var published = await OfficialEmitter.CaptureAsync("""
            const { default: notepack } = await import("notepack.io");
            redisClient.publish("socket.io-request#/#", notepack.encode({ type: 6, data: ["ping", Buffer.from([7])] }));
            redisClient.publish("socket.io-request#/#", notepack.encode({ type: 2, opts: { rooms: ["a"], except: [] }, rooms: ["b"] }));
            """);

        var serverSide = Translate(published[0]);
        Assert.Equal(ClusterMessageType.ServerSideEmit, serverSide.Type);
        Assert.Equal("""["ping",{"_placeholder":true,"num":0}]""", Text(serverSide.Data));
        Assert.Equal([7], Assert.Single(serverSide.Attachments).ToArray());
        Assert.Equal<string>(["b"], Translate(published[1]).TargetRooms);
    }

    [Theory]
    [InlineData("socket.io#/#", "93c1", "MessagePack")]
    [InlineData("socket.io#/#", "6e6f74206d73677061636b", "not a MessagePack array")]
    [InlineData("socket.io#/#", "", "not a MessagePack array")]
    [InlineData("socket.io#/#", "93a16182a474797065", "MessagePack")]
    [InlineData("socket.io#/#", "93a16183a47479706503a46461746191a16ea36e7370a12f80", "packet type 3")]
    [InlineData("socket.io#/#", "93a16183a47479706502a46461746190a36e7370a12f80", "not an array starting with the event name")]
    [InlineData("socket.io#/#", "93a16183a47479706502a4646174619101a36e7370a12f80", "not an array starting with the event name")]
    [InlineData("socket.io#/#", "93a16183a47479706502a46461746191a1ffa36e7370a12f80", "not valid UTF-8")]
    [InlineData("socket.io#/other#", "93a16183a47479706502a46461746191a165a36e7370a12f80", "not the channel's")]
    [InlineData("socket.io#/#", "93a16183a47479706502a46461746191a165a36e7370a12f81a5726f6f6d7391c3", "opts.rooms")]
    [InlineData("socket.io-request#/#", "7b2274797065223a", "malformed message")]
    [InlineData("socket.io-request#/#", "7b2274797065223a357d", "request type 5")]
    [InlineData("socket.io-request#/#", "7b2274797065223a327d", "need rooms")]
    [InlineData("socket.io-request#/#", "7b2274797065223a367d", "serverSideEmit needs data")]
    [InlineData("socket.io-request#/#", "7b2274797065223a332c226f707473223a7b22726f6f6d73223a5b315d7d2c22726f6f6d73223a5b5d7d", "arrays of strings")]
    [InlineData("socket.io-request#nsp", "7b2274797065223a347d", "does not name a namespace")]
    [InlineData("other#/#", "90", "not an emitter channel")]
    public void Input_that_does_not_fit_is_refused_with_a_reason(string channel, string hex, string reason)
    {
        Assert.Contains(reason, Refuse(channel, Convert.FromHexString(hex)));
    }

    [Fact]
    public void A_packet_naming_its_data_twice_keeps_the_last_as_a_JavaScript_object_would()
    {
        // ["a", {type: 2, data: ["x"], data: ["y"], nsp: "/"}, {}]
        var payload = Convert.FromHexString("93a16184a47479706502a46461746191a178a46461746191a179a36e7370a12f80");

        Assert.Equal("""["y"]""", Text(Translate(("socket.io#/#", payload)).Data));
    }

    [Fact]
    public void Values_nested_deeper_than_the_limit_are_refused()
    {
        // ["emitter", {type: 2, data: ["deep", [[[...]]]], nsp: "/"}, {}] with 70 nested arrays.
        var payload = Convert.FromHexString("93a7656d697474657283a47479706502a464617461" + "92a464656570" + string.Concat(Enumerable.Repeat("91", 70)) + "c0" + "a36e7370a12f80");

        Assert.Contains("nested deeper than 64", Refuse("socket.io#/#", payload));
    }

    [Fact]
    public void A_timestamp_beyond_the_years_1_to_9999_becomes_null_as_an_invalid_Date_does()
    {
        // data: ["t", Date(timestamp96 with 2^62 seconds)]
        var payload = Convert.FromHexString("93a16183a47479706502a46461746192a174c70cff" + "00000000" + "4000000000000000" + "a36e7370a12f80");

        Assert.Equal("""["t",null]""", Text(Translate(("socket.io#/#", payload)).Data));
    }

    private static ClusterMessage Translate((string Channel, byte[] Payload) published, EmitterChannels? channels = null)
    {
        using var translator = new EmitterMessageTranslator(channels ?? Channels);
        Assert.True(translator.TryTranslate(published.Channel, published.Payload, out var message, out var error), error);
        return message;
    }

    private static string Refuse(string channel, byte[] payload)
    {
        using var translator = new EmitterMessageTranslator(Channels);
        Assert.False(translator.TryTranslate(channel, payload, out _, out var error));
        return error;
    }

    private static string Text(ReadOnlyMemory<byte> utf8) => Encoding.UTF8.GetString(utf8.Span);

    /// <summary>Re-serializes JSON so that number spellings (1e-7, 1E-07) do not matter.</summary>
    private static string Normalize(string json) => JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement, RelaxedJson);

    private static readonly JsonSerializerOptions RelaxedJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
