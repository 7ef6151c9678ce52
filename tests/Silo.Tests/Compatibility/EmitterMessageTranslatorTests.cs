using System.Buffers;
using System.Text;
using OrleansRooms.Grains;
using OrleansRooms.Silo.Compatibility;

namespace OrleansRooms.Silo.Tests.Compatibility;

/// <summary>Malformed emitter input is rejected with a reason, never thrown.</summary>
public sealed class EmitterMessageTranslatorTests
{
    private readonly EmitterMessageTranslator _translator = new(new EmitterChannels("socket.io"));

    [Theory]
    [InlineData("", "not msgpack")]
    [InlineData("c0", "array")]
    [InlineData("92a161a162", "array [uid, packet, opts]")]
    [InlineData("93a7656d697474657281a474797065c1", "truncated")]
    public void Malformed_broadcasts_are_rejected(string hex, string because)
    {
        Assert.False(_translator.TryTranslate("socket.io#/#", Convert.FromHexString(hex), out var message, out var error), because);
        Assert.Null(message);
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void Every_truncation_of_a_valid_broadcast_is_rejected()
    {
        var payload = Broadcast(w =>
        {
            w.WriteArrayHeader(3);
            w.WriteString("ev");
            w.WriteBinary([1, 2, 3]);
            w.WriteMapHeader(1);
            w.WriteString("k");
            w.WriteDouble(1.5);
        }, nsp: "/", rooms: ["a"]);
        Assert.True(_translator.TryTranslate("socket.io#/#a#", payload, out var message, out var reason), reason);
        Assert.Equal("""["ev",{"_placeholder":true,"num":0},{"k":1.5}]""", Encoding.UTF8.GetString(message.Data.Span));
        for (int length = 0; length < payload.Length; length++)
        {
            Assert.False(_translator.TryTranslate("socket.io#/#a#", payload.AsSpan(0, length), out _, out var error), $"cut at {length}");
            Assert.NotNull(error);
        }
    }

    [Fact]
    public void A_packet_that_is_not_an_event_is_rejected()
    {
        var payload = Broadcast(w => { w.WriteArrayHeader(1); w.WriteString("ev"); }, type: 3);
        Assert.False(_translator.TryTranslate("socket.io#/#", payload, out _, out var error));
        Assert.Contains("type 3", error);
    }

    [Fact]
    public void Data_without_an_event_name_is_rejected()
    {
        var payload = Broadcast(w => { w.WriteArrayHeader(1); w.WriteInt64(1); });
        Assert.False(_translator.TryTranslate("socket.io#/#", payload, out _, out var error));
        Assert.Contains("event name", error);
    }

    [Fact]
    public void A_namespace_other_than_the_channels_is_rejected()
    {
        var payload = Broadcast(w => { w.WriteArrayHeader(1); w.WriteString("ev"); }, nsp: "/admin");
        Assert.False(_translator.TryTranslate("socket.io#/#", payload, out _, out var error));
        Assert.Contains("namespace", error);
        Assert.True(_translator.TryTranslate("socket.io#/admin#", payload, out var message, out _));
        Assert.Equal("/admin", message.Namespace);
    }

    [Fact]
    public void Rooms_that_are_not_strings_are_rejected()
    {
        var payload = Broadcast(w => { w.WriteArrayHeader(1); w.WriteString("ev"); }, roomWriter: w => { w.WriteArrayHeader(1); w.WriteInt64(7); });
        Assert.False(_translator.TryTranslate("socket.io#/#", payload, out _, out var error));
        Assert.Contains("rooms", error);
    }

    [Fact]
    public void Invalid_utf8_and_too_deep_nesting_are_rejected()
    {
        var invalid = Broadcast(w => { w.WriteArrayHeader(2); w.WriteString("ev"); w.WriteStringBytes([0xc3, 0x28]); });
        Assert.False(_translator.TryTranslate("socket.io#/#", invalid, out _, out var error));
        Assert.Contains("UTF-8", error);

        var deep = Broadcast(w =>
        {
            w.WriteArrayHeader(2);
            w.WriteString("ev");
            for (int i = 0; i < 100; i++)
            {
                w.WriteArrayHeader(1);
            }

            w.WriteNil();
        });
        Assert.False(_translator.TryTranslate("socket.io#/#", deep, out _, out error));
        Assert.Contains("deep", error);
    }

    [Theory]
    [InlineData("{\"type\":", "malformed")]
    [InlineData("{\"opts\":{}}", "numeric type")]
    [InlineData("{\"type\":0}", "not supported")]
    [InlineData("{\"type\":5,\"opts\":{\"rooms\":[]}}", "not supported")]
    [InlineData("{\"type\":2,\"opts\":{}}", "needs rooms")]
    [InlineData("{\"type\":2,\"opts\":{\"rooms\":[1]},\"rooms\":[\"a\"]}", "arrays of strings")]
    [InlineData("{\"type\":6,\"data\":[1]}", "event name")]
    [InlineData("[1,2]", "neither")]
    public void Malformed_requests_are_rejected(string json, string reason)
    {
        Assert.False(_translator.TryTranslate("socket.io-request#/#", Encoding.UTF8.GetBytes(json), out var message, out var error));
        Assert.Null(message);
        Assert.Contains(reason, error);
    }

    [Fact]
    public void A_request_in_messagepack_is_read_like_json()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        w.WriteMapHeader(3);
        w.WriteString("type");
        w.WriteInt64(2);
        w.WriteString("opts");
        w.WriteMapHeader(1);
        w.WriteString("rooms");
        w.WriteArrayHeader(1);
        w.WriteString("a");
        w.WriteString("rooms");
        w.WriteArrayHeader(1);
        w.WriteString("b");
        Assert.True(_translator.TryTranslate("socket.io-request#/chat#", buffer.WrittenSpan, out var message, out var error), error);
        Assert.Equal(ClusterMessageType.SocketsJoin, message.Type);
        Assert.Equal("/chat", message.Namespace);
        Assert.Equal(["a"], message.Rooms);
        Assert.Equal(["b"], message.TargetRooms);
    }

    [Fact]
    public void Channels_of_other_keys_are_not_translated()
    {
        Assert.False(_translator.TryTranslate("other#/#", [0x90], out _, out var error));
        Assert.Contains("not an emitter channel", error);
    }

    [Fact]
    public void Glob_characters_of_the_key_are_escaped_in_the_patterns()
    {
        var channels = new EmitterChannels("app*[1]");
        Assert.Equal("app\\*\\[1\\]#*", channels.BroadcastPattern);
        Assert.Equal("app\\*\\[1\\]-request#*", channels.RequestPattern);
        Assert.Equal("app*[1]#/#room#", channels.BroadcastChannel("/", ["room"]));
        Assert.Equal("app*[1]#/#", channels.BroadcastChannel("/", ["a", "b"]));
    }

    private static byte[] Broadcast(Action<MessagePackWriter> data, int type = 2, string nsp = "/", string[]? rooms = null, Action<MessagePackWriter>? roomWriter = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        w.WriteArrayHeader(3);
        w.WriteString("emitter");
        w.WriteMapHeader(3);
        w.WriteString("type");
        w.WriteInt64(type);
        w.WriteString("data");
        data(w);
        w.WriteString("nsp");
        w.WriteString(nsp);
        w.WriteMapHeader(3);
        w.WriteString("rooms");
        if (roomWriter is not null)
        {
            roomWriter(w);
        }
        else
        {
            w.WriteArrayHeader(rooms?.Length ?? 0);
            foreach (var room in rooms ?? [])
            {
                w.WriteString(room);
            }
        }

        w.WriteString("flags");
        w.WriteMapHeader(0);
        w.WriteString("except");
        w.WriteArrayHeader(0);
        return buffer.WrittenSpan.ToArray();
    }
}
