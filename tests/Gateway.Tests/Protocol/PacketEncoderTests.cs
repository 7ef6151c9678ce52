using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansRooms.Protocol;
using static OrleansRooms.Tests.Protocol.ProtocolTestData;

namespace OrleansRooms.Tests.Protocol;

public sealed class PacketEncoderTests
{
    public sealed record ChatMessage(string UserName, string Text, DateTimeOffset? SentAt = null);

    [Fact]
    public void Arguments_use_the_users_serializer_options()
    {
        var encoded = PacketEncoder.Event("/", "chat", [new ChatMessage("ann", "hi")], null, Web);
        Assert.Equal("""42["chat",{"userName":"ann","text":"hi","sentAt":null}]""", Text(encoded));

        var pascal = new JsonSerializerOptions { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
        Assert.Equal("""42["chat",{"UserName":"ann","Text":"hi"}]""", Text(PacketEncoder.Event("/", "chat", [new ChatMessage("ann", "hi")], null, pascal)));
    }

    [Fact]
    public void Indented_option_does_not_break_packets_over_lines()
    {
        var indented = new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true };
        Assert.Equal("""42["chat",{"userName":"ann","text":"hi","sentAt":null}]""", Text(PacketEncoder.Event("/", "chat", [new ChatMessage("ann", "hi")], null, indented)));
    }

    [Fact]
    public void Primitive_arguments()
    {
        var encoded = PacketEncoder.Event("/", "p", [null, true, false, 0, -1, long.MaxValue, 1.5, 1.0, "s", 'c', 2.5m, (short)3, 4u, Guid.Empty], null, Web);
        Assert.Equal(
            """42["p",null,true,false,0,-1,9223372036854775807,1.5,1,"s","c",2.5,3,4,"00000000-0000-0000-0000-000000000000"]""",
            Text(encoded));
    }

    [Fact]
    public void Number_handling_of_the_options_wins_over_the_fast_path()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            NumberHandling = JsonNumberHandling.WriteAsString | JsonNumberHandling.AllowNamedFloatingPointLiterals,
        };
        Assert.Equal("""42["n","1","2.5","NaN"]""", Text(PacketEncoder.Event("/", "n", [1, 2.5, double.NaN], null, options)));

        var literals = new JsonSerializerOptions(JsonSerializerDefaults.Web) { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };
        Assert.Equal("""42["n",1,"Infinity"]""", Text(PacketEncoder.Event("/", "n", [1, double.PositiveInfinity], null, literals)));
    }

    [Fact]
    public void Json_element_argument_is_written_as_is()
    {
        var element = JsonDocument.Parse("""{"A":[1,{"_placeholder":true,"num":0}],"b":"x"}""").RootElement;
        Assert.Equal("""42["raw",{"A":[1,{"_placeholder":true,"num":0}],"b":"x"}]""", Text(PacketEncoder.Event("/", "raw", [element], null, Web)));
    }

    [Fact]
    public void Unicode_is_written_as_utf8_text()
    {
        var encoded = PacketEncoder.Event("/ñs", "héllo", ["日本語", "Ünïcödé"], 5, Web);
        var expected = "42/ñs,5[\"héllo\",\"日本語\",\"Ünïcödé\"]";
        Assert.Equal(Encoding.UTF8.GetBytes(expected), encoded.Text.Payload.ToArray());
    }

    [Fact]
    public void Characters_json_must_escape_are_escaped()
    {
        var encoded = PacketEncoder.Event("/", "e", ["\"quoted\" back\\slash\nline\u0001"], null, Web);
        Assert.Equal("""42["e","\"quoted\" back\\slash\nline\u0001"]""", Text(encoded));
    }

    [Fact]
    public void Characters_outside_the_basic_plane_round_trip()
    {
        // Written as a surrogate-pair escape: valid JSON that JSON.parse turns back into the same string.
        var encoded = PacketEncoder.Event("/", "emoji", ["😀 ok"], null, Web);
        var packet = Decode(encoded);
        Assert.Equal("😀 ok", packet.Data!.Value[1].GetString());
    }

    [Fact]
    public void Users_encoder_is_respected()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.Default };
        Assert.Equal("""42["e","\u00E9\u003C"]""", Text(PacketEncoder.Event("/", "e", ["é<"], null, options)));
        Assert.Equal("42[\"e\",\"é<\"]", Text(PacketEncoder.Event("/", "e", ["é<"], null, Web)));
    }

    [Theory]
    [InlineData(0, "420[\"a\"]")]
    [InlineData(9, "429[\"a\"]")]
    [InlineData(10, "4210[\"a\"]")]
    [InlineData(int.MaxValue, "422147483647[\"a\"]")]
    public void Ack_id_is_written_in_decimal(int ackId, string expected)
    {
        Assert.Equal(expected, Text(PacketEncoder.Event("/", "a", [], ackId, Web)));
    }

    [Fact]
    public void Binary_event_with_namespace_and_ack_id_orders_the_header()
    {
        var encoded = PacketEncoder.Event("/admin", "up", [new byte[] { 1 }], 13, Web);
        Assert.Equal("""451-/admin,13["up",{"_placeholder":true,"num":0}]""", Text(encoded));
    }

    [Fact]
    public void Ten_or_more_attachments_write_a_multi_digit_count()
    {
        var args = new object?[12];
        for (var i = 0; i < args.Length; i++)
        {
            args[i] = new[] { (byte)i };
        }

        var encoded = PacketEncoder.Event("/", "many", args, null, Web);
        Assert.StartsWith("4512-[\"many\",", Text(encoded), StringComparison.Ordinal);
        Assert.EndsWith("""{"_placeholder":true,"num":11}]""", Text(encoded), StringComparison.Ordinal);
        Assert.Equal(13, encoded.Parts.Length);

        var packet = Decode(encoded, maxAttachments: 12);
        for (var i = 0; i < 12; i++)
        {
            Assert.Equal(new[] { (byte)i }, PayloadSerializer.Deserialize<byte[]>(packet.Data!.Value[i + 1], packet.Attachments, Web));
        }
    }

    [Fact]
    public void Large_payload_round_trips()
    {
        var text = string.Create(1_000_000, 0, static (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (char)('a' + (i % 26));
            }
        });
        var encoded = PacketEncoder.Event("/", "big", [text, new string('é', 50_000)], null, Web);
        var packet = Decode(encoded);
        Assert.Equal(text, packet.Data!.Value[1].GetString());
        Assert.Equal(new string('é', 50_000), packet.Data.Value[2].GetString());
    }

    [Fact]
    public void Earlier_packets_are_not_changed_by_later_encodes_on_the_same_thread()
    {
        var first = PacketEncoder.Event("/", "first", [new string('x', 300_000)], null, Web);
        var firstBytes = first.Text.WebSocketFrame.ToArray();
        var second = PacketEncoder.Event("/", "second", ["y"], null, Web);
        _ = PacketEncoder.Event("/", "third", [new string('z', 2000)], null, Web);

        Assert.Equal(firstBytes, first.Text.WebSocketFrame.ToArray());
        Assert.Equal("""42["second","y"]""", Text(second));
    }

    [Fact]
    public void Failed_serialization_leaves_the_encoder_clean()
    {
        Assert.ThrowsAny<Exception>(() => PacketEncoder.Event("/", "bad", [new byte[] { 1 }, new Throwing()], null, Web));

        // No leftover JSON or attachment from the failed call.
        Assert.Equal("""42["good"]""", Text(PacketEncoder.Event("/", "good", [], null, Web)));
        var binary = PacketEncoder.Event("/", "bin", [new byte[] { 2 }], null, Web);
        Assert.Equal("""451-["bin",{"_placeholder":true,"num":0}]""", Text(binary));

        // Outside an encode, binary falls back to base64: the attachment collector was not left behind.
        Assert.Equal("\"AQ==\"", JsonSerializer.Serialize(new byte[] { 1 }, ProtocolJsonOptions.For(Web).Serializer));
    }

    [Fact]
    public void Encode_nested_in_a_converter_gets_its_own_buffer_and_attachments()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.Converters.Add(new NestingConverter());
        var encoded = PacketEncoder.Event("/", "outer", [new byte[] { 1 }, new Nesting(), new byte[] { 3 }], null, options);
        Assert.Equal(
            """452-["outer",{"_placeholder":true,"num":0},"451-[\"inner\",{\"_placeholder\":true,\"num\":0}]",{"_placeholder":true,"num":1}]""",
            Text(encoded));
        Assert.Equal(new byte[] { 3 }, encoded.Parts[2].Payload.ToArray());
    }

    [Fact]
    public void Parallel_encodes_do_not_mix()
    {
        Parallel.For(0, 2000, i =>
        {
            var encoded = PacketEncoder.Event("/", "n", [i, new byte[] { (byte)i }], null, Web);
            Assert.Equal($"451-[\"n\",{i},{{\"_placeholder\":true,\"num\":0}}]", Text(encoded));
            Assert.Equal((byte)i, encoded.Parts[1].Payload.Span[0]);
        });
    }

    [Theory]
    [InlineData("connect")]
    [InlineData("connect_error")]
    [InlineData("disconnect")]
    [InlineData("disconnecting")]
    [InlineData("newListener")]
    [InlineData("removeListener")]
    public void Reserved_event_names_are_refused(string name)
    {
        Assert.Throws<ArgumentException>(() => PacketEncoder.Event("/", name, [], null, Web));
    }

    [Theory]
    [InlineData("")]
    [InlineData("admin")]
    [InlineData("/a,b")]
    public void Invalid_namespaces_are_refused(string nsp)
    {
        Assert.Throws<ArgumentException>(() => PacketEncoder.Event(nsp, "e", [], null, Web));
        Assert.Throws<ArgumentException>(() => PacketEncoder.Ack(nsp, 1, [], Web));
        Assert.Throws<ArgumentException>(() => PacketEncoder.Connect(nsp, "sid"));
        Assert.Throws<ArgumentException>(() => PacketEncoder.ConnectError(nsp, "m", null, Web));
        Assert.Throws<ArgumentException>(() => PacketEncoder.Disconnect(nsp));
    }

    [Theory]
    [InlineData(2147483648L, "432147483648[\"ok\"]")]                 // 2^31
    [InlineData(9007199254740991L, "439007199254740991[\"ok\"]")]     // 2^53 - 1
    [InlineData(9007199254740991L, "43/admin,9007199254740991[\"ok\"]", "/admin")]
    public void Ack_answers_a_client_id_up_to_the_largest_safe_javascript_integer(long ackId, string expected, string nsp = "/")
    {
        var packet = PacketEncoder.Ack(nsp, ackId, ["ok"], Web);

        Assert.Equal(expected, Text(packet));
        Assert.Equal(ackId, Decode(packet).Id);
    }

    [Fact]
    public void Ack_id_past_the_largest_safe_javascript_integer_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PacketEncoder.Ack("/", 1L << 53, [], Web));
    }

    [Fact]
    public void Negative_ack_ids_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PacketEncoder.Event("/", "e", [], -1, Web));
        Assert.Throws<ArgumentOutOfRangeException>(() => PacketEncoder.Ack("/", -1, [], Web));
    }

    [Fact]
    public void Sid_is_json_escaped()
    {
        Assert.Equal("""40{"sid":"a\"b"}""", Text(PacketEncoder.Connect("/", "a\"b")));
    }

    [Fact]
    public void Every_encoded_packet_decodes_back_to_the_same_fields()
    {
        var connect = Decode(PacketEncoder.Connect("/admin", "abc"));
        Assert.Equal((PacketType.Connect, "/admin", "abc"), (connect.Type, connect.Namespace, connect.Data!.Value.GetProperty("sid").GetString()));

        var disconnect = Decode(PacketEncoder.Disconnect("/admin"));
        Assert.Equal((PacketType.Disconnect, "/admin"), (disconnect.Type, disconnect.Namespace));

        var ack = Decode(PacketEncoder.Ack("/", 0, [1, "two"], Web));
        Assert.Equal((PacketType.Ack, 0, """[1,"two"]"""), (ack.Type, ack.Id!.Value, ack.Data!.Value.GetRawText()));
    }

    private sealed class Throwing
    {
        public int Value => throw new InvalidOperationException("cannot serialize");
    }

    private sealed class Nesting;

    private sealed class NestingConverter : JsonConverter<Nesting>
    {
        public override Nesting Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => throw new NotSupportedException();

        public override void Write(Utf8JsonWriter writer, Nesting value, JsonSerializerOptions options)
        {
            var inner = PacketEncoder.Event("/", "inner", [new byte[] { 2 }], null, options);
            writer.WriteStringValue(Text(inner));
        }
    }
}
