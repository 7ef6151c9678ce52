using System.Buffers;
using OrleansRooms.Protocol;
using static OrleansRooms.Tests.Protocol.ProtocolTestData;

namespace OrleansRooms.Tests.Protocol;

/// <summary>Whatever a client sends that the protocol does not allow is an error with a message, never an exception.</summary>
public sealed class DecoderValidationTests
{
    private static string DecodeError(string text, int maxAttachments = 10)
    {
        var decoder = new PacketDecoder(maxAttachments);
        var status = decoder.DecodeText(Utf8(text), out var packet, out var error);
        Assert.Equal(DecodeStatus.Error, status);
        Assert.Null(packet);
        Assert.False(string.IsNullOrWhiteSpace(error));
        Assert.False(decoder.IsAwaitingAttachments);
        return error!;
    }

    [Fact]
    public void Empty_input_is_an_error()
    {
        Assert.Contains("Empty", DecodeError(""), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("7")]
    [InlineData("9[\"foo\"]")]
    [InlineData("abc")]                  // "4abc" in the compliance suite
    [InlineData("/admin,[\"foo\"]")]
    [InlineData(" 2[\"foo\"]")]
    [InlineData("\u00e92[\"foo\"]")]
    public void Unknown_packet_type_is_an_error(string text)
    {
        Assert.Contains("Unknown packet type", DecodeError(text), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("4")]
    [InlineData("""4{"message":"Not authorized"}""")]
    [InlineData("""4/admin,{"message":"x"}""")]
    public void Connect_error_from_a_client_is_an_error(string text)
    {
        Assert.Contains("CONNECT_ERROR", DecodeError(text), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""2admin,["foo"]""")]
    [InlineData("""0admin,""")]
    [InlineData("""2 /admin,["foo"]""")]
    public void Namespace_not_starting_with_slash_is_an_error(string text)
    {
        Assert.Contains("Unexpected", DecodeError(text), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""2/admin["foo"]""")]
    [InlineData("""2/admin""")]
    [InlineData("""3/admin12[]""")]
    [InlineData("""51-/admin[]""")]
    public void Namespace_without_comma_before_more_content_is_an_error(string text)
    {
        Assert.Contains("Missing ','", DecodeError(text), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""2abc["message-with-ack",1,"2",{"3":[false]}]""")] // compliance suite: invalid ack id
    [InlineData("""21a["foo"]""")]
    [InlineData("""2/admin,x1["foo"]""")]
    [InlineData("""2-1["foo"]""")]
    [InlineData("""21.5["foo"]""")]
    [InlineData("""2 12["foo"]""")]
    public void Non_digit_ack_id_is_an_error(string text)
    {
        Assert.Contains("Unexpected", DecodeError(text), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("29007199254740992[\"foo\"]")]   // 2^53: a JavaScript number no longer tells it from 2^53 + 1
    [InlineData("39007199254740993[]")]
    [InlineData("399999999999999999999[]")]
    [InlineData("2/admin,184467440737095516160[\"foo\"]")]
    public void Ack_id_above_the_largest_safe_javascript_integer_is_an_error(string text)
    {
        Assert.Contains("Ack id out of range", DecodeError(text), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("22147483647[\"foo\"]", 2147483647L)]
    [InlineData("22147483648[\"foo\"]", 2147483648L)]          // 2^31: past int, still an ordinary JavaScript number
    [InlineData("29007199254740991[\"foo\"]", 9007199254740991L)] // 2^53 - 1, Number.MAX_SAFE_INTEGER
    [InlineData("300000000000000000000000000012[]", 12L)]        // leading zeros, as Number("000...12")
    [InlineData("3/admin,9007199254740991[]", 9007199254740991L)]
    public void Ack_id_up_to_the_largest_safe_javascript_integer_is_accepted(string text, long expected)
    {
        var status = new PacketDecoder(10).DecodeText(Utf8(text), out var packet, out var error);
        Assert.Null(error);
        Assert.Equal(DecodeStatus.Complete, status);
        Assert.Equal<long?>(expected, packet!.Id);
    }

    [Theory]
    [InlineData("""2["\ud800"]""")]              // a lone high surrogate as the event name
    [InlineData("""2["\uDC00"]""")]              // a lone low surrogate, upper-case hex
    [InlineData("""2["\ude00\ud83d"]""")]        // a pair in the wrong order
    [InlineData("""2["\ud83d\ud83d"]""")]        // two high surrogates
    [InlineData("""2["\ud83dx"]""")]             // a high surrogate followed by a character
    [InlineData("""2["\ud83d\n"]""")]            // ... or by another escape
    [InlineData("""2["ev","a\ud800b"]""")]        // in an argument
    [InlineData("""2["ev",{"\udfff":1}]""")]      // in a property name
    [InlineData("""21["ev",[[{"k":["\ud800"]}]]]""")]
    [InlineData("""31["\ud800"]""")]             // in an ack payload
    [InlineData("""51-["ev",{"_placeholder":true,"num":0},"\ud800"]""")]
    [InlineData("""0{"token":"\ud800"}""")]      // in the CONNECT payload (auth)
    [InlineData("""0/admin,{"\ud800":"x"}""")]
    public void Lone_utf16_surrogate_escape_in_a_string_is_an_error(string text)
    {
        Assert.Contains("lone UTF-16 surrogate", DecodeError(text), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""2["\ud83d\ude00"]""", "\U0001F600")]
    [InlineData("""2["\uD83D\uDE00!"]""", "\U0001F600!")]
    [InlineData("""2["\\ud800"]""", "\\ud800")]              // an escaped backslash, then the text "ud800"
    [InlineData("""2["\\\ud83d\ude00"]""", "\\\U0001F600")]
    [InlineData("""2["a\u00e9\"\/b"]""", "a\u00e9\"/b")]
    public void Escapes_that_make_valid_text_are_accepted(string text, string eventName)
    {
        var status = new PacketDecoder(10).DecodeText(Utf8(text), out var packet, out var error);
        Assert.Null(error);
        Assert.Equal(DecodeStatus.Complete, status);
        Assert.Equal(eventName, packet!.EventName);
    }

    [Fact]
    public void Lone_surrogate_escape_split_across_segments_is_an_error()
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes("""2["ok","\ud83d\ude00","\ud83d"]""");
        for (var cut = 1; cut < bytes.Length; cut++)
        {
            Assert.Equal(DecodeStatus.Error, new PacketDecoder(10).DecodeText(Segmented(bytes, cut), out _, out _));
        }

        var valid = System.Text.Encoding.UTF8.GetBytes("""2["ok","\ud83d\ude00","\\ud83d"]""");
        for (var cut = 1; cut < valid.Length; cut++)
        {
            Assert.Equal(DecodeStatus.Complete, new PacketDecoder(10).DecodeText(Segmented(valid, cut), out _, out _));
        }
    }

    [Theory]
    [InlineData("5")]
    [InlineData("5a-")]
    [InlineData("""5-["foo"]""")]
    [InlineData("""5["foo"]""")]
    [InlineData("6")]
    public void Missing_attachment_count_is_an_error(string text)
    {
        Assert.Contains("Missing attachment count", DecodeError(text), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("51")]
    [InlineData("51.23-")]
    [InlineData("""51["foo",{"_placeholder":true,"num":0}]""")]
    [InlineData("""61/admin,1[]""")]
    public void Missing_dash_after_attachment_count_is_an_error(string text)
    {
        Assert.Contains("Missing '-'", DecodeError(text), StringComparison.Ordinal);
    }

    [Fact]
    public void Attachment_count_overflow_is_an_error()
    {
        Assert.Contains("Attachment count out of range", DecodeError("599999999999-[\"foo\"]"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""511-["foo"]""", 10)]
    [InlineData("""53-["foo"]""", 2)]
    [InlineData("""51-["foo",{"_placeholder":true,"num":0}]""", 0)]
    public void More_attachments_than_allowed_is_an_error(string text, int maxAttachments)
    {
        Assert.Contains("Too many attachments", DecodeError(text, maxAttachments), StringComparison.Ordinal);
    }

    [Fact]
    public void Attachment_count_at_the_limit_is_accepted()
    {
        var decoder = new PacketDecoder(2);
        Assert.Equal(DecodeStatus.AwaitingAttachments, decoder.DecodeText(Utf8("""52-["foo"]"""), out _, out var error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("2[\"some\",\"data\"")] // unterminated
    [InlineData("2[\"foo\"")]
    [InlineData("""0{"token":}""")]
    [InlineData("""2["foo",]""")]           // trailing comma
    [InlineData("""2["foo" "bar"]""")]
    [InlineData("""2['foo']""")]
    [InlineData("""2["foo",/*c*/1]""")]
    [InlineData("""0{token:"1"}""")]
    public void Malformed_json_is_an_error(string text)
    {
        Assert.Contains("Malformed JSON", DecodeError(text), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""2["foo"]x""")]
    [InlineData("""2["foo"]]""")]
    [InlineData("""2["foo"]["bar"]""")]
    [InlineData("""2["foo"] 1""")]
    [InlineData("""0{"a":1}{}""")]
    public void Trailing_garbage_is_an_error(string text)
    {
        Assert.Contains("Malformed JSON", DecodeError(text), StringComparison.Ordinal);
    }

    [Fact]
    public void Json_nested_deeper_than_64_is_an_error()
    {
        var text = "2[\"foo\"," + new string('[', 70) + new string(']', 70) + "]";
        Assert.Contains("Malformed JSON", DecodeError(text), StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf8_in_the_payload_is_an_error()
    {
        byte[] bytes = [(byte)'2', (byte)'[', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)']'];
        var status = new PacketDecoder(10).DecodeText(new ReadOnlySequence<byte>(bytes), out var packet, out var error);
        Assert.Equal(DecodeStatus.Error, status);
        Assert.Null(packet);
        Assert.Contains("UTF-8", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf8_split_across_segments_is_an_error()
    {
        // "é" is C3 A9: a lone C3 at a segment end followed by '"' is invalid, C3 | A9 across segments is fine.
        byte[] invalid = [(byte)'2', (byte)'[', (byte)'"', 0xC3, (byte)'"', (byte)']'];
        byte[] valid = [(byte)'2', (byte)'[', (byte)'"', 0xC3, 0xA9, (byte)'"', (byte)']'];
        Assert.Equal(DecodeStatus.Error, new PacketDecoder(10).DecodeText(Segmented(invalid, 4), out _, out var error));
        Assert.Contains("UTF-8", error, StringComparison.Ordinal);
        Assert.Equal(DecodeStatus.Complete, new PacketDecoder(10).DecodeText(Segmented(valid, 4), out var packet, out _));
        Assert.Equal("\u00e9", packet!.EventName);
        byte[] truncated = [(byte)'2', (byte)'[', (byte)'"', (byte)'a', (byte)'"', (byte)']', 0xE2, 0x82];
        Assert.Equal(DecodeStatus.Error, new PacketDecoder(10).DecodeText(Segmented(truncated, 7), out _, out _));
    }

    [Fact]
    public void Comma_of_the_payload_taken_for_the_end_of_a_namespace_is_an_error()
    {
        Assert.Equal(DecodeStatus.Error, new PacketDecoder(10).DecodeText(Utf8("""51-/admin[{"_placeholder":true,"num":0}]"""), out _, out _));
    }

    [Fact]
    public void Invalid_utf8_in_the_namespace_is_an_error()
    {
        byte[] bytes = [(byte)'0', (byte)'/', 0xFF, 0xFE, (byte)','];
        var status = new PacketDecoder(10).DecodeText(new ReadOnlySequence<byte>(bytes), out _, out var error);
        Assert.Equal(DecodeStatus.Error, status);
        Assert.Contains("UTF-8", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0[]")]
    [InlineData("""0/admin,["token"]""")]
    public void Connect_payload_other_than_an_object_is_an_error(string text)
    {
        Assert.Contains("CONNECT packet must be an object", DecodeError(text), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0/admin,\"invalid\"")]
    [InlineData("0null")]
    [InlineData("01")]
    public void Connect_payload_that_is_no_object_or_array_or_an_id_is_an_error(string text)
    {
        var error = DecodeError(text);
        Assert.True(
            error.Contains("Unexpected", StringComparison.Ordinal) || error.Contains("no ack id", StringComparison.Ordinal),
            error);
    }

    [Theory]
    [InlineData("1{}")]
    [InlineData("1/admin,{}")]
    [InlineData("1[]")]
    [InlineData("11")]
    [InlineData("1/admin,1")]
    public void Disconnect_with_payload_or_ack_id_is_an_error(string text)
    {
        Assert.Contains("DISCONNECT packet has no ack id and no payload", DecodeError(text), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2")]
    [InlineData("2/admin,")]
    [InlineData("212")]
    [InlineData("2{}")]                       // compliance suite: invalid payload format
    [InlineData("2/admin,{}")]
    [InlineData("2[]")]
    [InlineData("50-[]")]
    [InlineData("50-{}")]
    public void Event_payload_that_is_not_a_non_empty_array_is_an_error(string text)
    {
        Assert.Contains("non-empty array", DecodeError(text), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""2[{"toString":"foo"}]""")]
    [InlineData("""2[true,"foo"]""")]
    [InlineData("""2[false]""")]
    [InlineData("""2[null,"bar"]""")]
    [InlineData("""2[["foo"]]""")]
    [InlineData("""51-[{"_placeholder":true,"num":0}]""")]
    public void Event_name_that_is_neither_string_nor_number_is_an_error(string text)
    {
        Assert.Contains("event name", DecodeError(text), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("connect")]
    [InlineData("connect_error")]
    [InlineData("disconnect")]
    [InlineData("disconnecting")]
    [InlineData("newListener")]
    [InlineData("removeListener")]
    public void Reserved_event_name_is_an_error(string name)
    {
        Assert.Contains("reserved event name", DecodeError($"2[\"{name}\",\"123\"]"), StringComparison.Ordinal);
        Assert.Contains("reserved event name", DecodeError($"2/admin,7[\"{name}\"]"), StringComparison.Ordinal);
        Assert.Contains("reserved event name", DecodeError($"51-[\"{name}\",{{\"_placeholder\":true,\"num\":0}}]"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Connect")]
    [InlineData("connect ")]
    [InlineData("disconnected")]
    public void Names_close_to_reserved_ones_are_accepted(string name)
    {
        var status = new PacketDecoder(10).DecodeText(Utf8($"2[\"{name}\"]"), out var packet, out _);
        Assert.Equal(DecodeStatus.Complete, status);
        Assert.Equal(name, packet!.EventName);
    }

    [Theory]
    [InlineData("3[]")]
    [InlineData("""3/admin,["bar"]""")]
    [InlineData("""61-[{"_placeholder":true,"num":0}]""")]
    public void Ack_without_ack_id_is_an_error(string text)
    {
        Assert.Contains("needs the ack id", DecodeError(text), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("312")]
    [InlineData("312{}")]
    [InlineData("3/admin,13{\"a\":1}")]
    [InlineData("60-1{}")]
    public void Ack_payload_other_than_an_array_is_an_error(string text)
    {
        Assert.Contains("ACK packet must be an array", DecodeError(text), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""51-["foo",{"_placeholder":true,"num":1}]""")]
    [InlineData("""51-["foo",{"_placeholder":true,"num":-1}]""")]
    [InlineData("""51-["foo",{"_placeholder":true,"num":"0"}]""")]
    [InlineData("""51-["foo",{"_placeholder":true,"num":0.5}]""")]
    [InlineData("""51-["foo",{"_placeholder":true,"num":null}]""")]
    [InlineData("""51-["foo",{"_placeholder":true}]""")]
    [InlineData("""51-["foo",{"_placeholder":true,"num":4294967296}]""")]
    [InlineData("""50-["foo",{"_placeholder":true,"num":0}]""")]
    [InlineData("""52-["foo",{"a":[1,{"b":{"_placeholder":true,"num":2}}]}]""")]
    [InlineData("""61-1[{"_placeholder":true,"num":1}]""")]
    public void Placeholder_with_malformed_or_out_of_range_num_is_an_error(string text)
    {
        Assert.Contains("Invalid binary placeholder", DecodeError(text), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""51-["foo",{"_placeholder":false,"num":7}]""")]
    [InlineData("""51-["foo",{"_placeholder":"true","num":7}]""")]
    public void Object_that_is_not_a_placeholder_is_left_alone(string text)
    {
        Assert.Equal(DecodeStatus.AwaitingAttachments, new PacketDecoder(10).DecodeText(Utf8(text), out _, out var error));
        Assert.Null(error);
    }

    [Fact]
    public void Binary_message_when_no_attachment_is_awaited_is_an_error()
    {
        var decoder = new PacketDecoder(10);
        var status = decoder.DecodeBinary(new ReadOnlySequence<byte>([1, 2, 3]), out var packet, out var error);
        Assert.Equal(DecodeStatus.Error, status);
        Assert.Null(packet);
        Assert.Contains("no attachment was awaited", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Binary_message_after_the_last_attachment_is_an_error()
    {
        var decoder = new PacketDecoder(10);
        decoder.DecodeText(Utf8("""51-["foo",{"_placeholder":true,"num":0}]"""), out _, out _);
        Assert.Equal(DecodeStatus.Complete, decoder.DecodeBinary(new ReadOnlySequence<byte>([1]), out _, out _));
        Assert.Equal(DecodeStatus.Error, decoder.DecodeBinary(new ReadOnlySequence<byte>([2]), out _, out _));
    }

    [Fact]
    public void Text_packet_while_attachments_are_awaited_is_an_error_and_resets_the_decoder()
    {
        var decoder = new PacketDecoder(10);
        decoder.DecodeText(Utf8("""52-["foo",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"""), out _, out _);
        decoder.DecodeBinary(new ReadOnlySequence<byte>([1]), out _, out _);

        var status = decoder.DecodeText(Utf8("""2["bar"]"""), out var packet, out var error);
        Assert.Equal(DecodeStatus.Error, status);
        Assert.Null(packet);
        Assert.Contains("still awaited", error, StringComparison.Ordinal);
        Assert.False(decoder.IsAwaitingAttachments);

        // Reset: no attachment is awaited any more, and a new packet decodes from scratch.
        Assert.Equal(DecodeStatus.Error, decoder.DecodeBinary(new ReadOnlySequence<byte>([2]), out _, out _));
        Assert.Equal(DecodeStatus.Complete, decoder.DecodeText(Utf8("""2["bar"]"""), out packet, out _));
        Assert.Equal("bar", packet!.EventName);
    }

    [Fact]
    public void Error_discards_a_pending_binary_packet()
    {
        var decoder = new PacketDecoder(10);
        decoder.DecodeText(Utf8("""51-["foo",{"_placeholder":true,"num":0}]"""), out _, out _);
        Assert.Equal(DecodeStatus.Error, decoder.DecodeText(Utf8("x"), out _, out _));

        Assert.Equal(DecodeStatus.AwaitingAttachments, decoder.DecodeText(Utf8("""51-["baz",{"_placeholder":true,"num":0}]"""), out _, out _));
        Assert.Equal(DecodeStatus.Complete, decoder.DecodeBinary(new ReadOnlySequence<byte>([9]), out var packet, out _));
        Assert.Equal("baz", packet!.EventName);
        Assert.Equal(new byte[] { 9 }, Assert.Single(packet.Attachments));
    }

    [Fact]
    public void Decoder_keeps_working_after_an_error()
    {
        var decoder = new PacketDecoder(10);
        Assert.Equal(DecodeStatus.Error, decoder.DecodeText(Utf8("2{}"), out _, out _));
        Assert.Equal(DecodeStatus.Complete, decoder.DecodeText(Utf8("""2/admin,3["ok"]"""), out var packet, out _));
        Assert.Equal("/admin", packet!.Namespace);
        Assert.Equal<long?>(3, packet.Id);
    }
}
