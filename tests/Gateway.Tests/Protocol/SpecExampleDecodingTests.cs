using System.Buffers;
using System.Text.Json;
using OrleansRooms.Protocol;
using static OrleansRooms.Tests.Protocol.ProtocolTestData;

namespace OrleansRooms.Tests.Protocol;

/// <summary>Every packet a client may send in the v5 spec and its compliance suite, as the server decodes it.</summary>
public sealed class SpecExampleDecodingTests
{
    private static Packet DecodeComplete(string text)
    {
        var status = new PacketDecoder(10).DecodeText(Utf8(text), out var packet, out var error);
        Assert.Null(error);
        Assert.Equal(DecodeStatus.Complete, status);
        return packet!;
    }

    [Fact]
    public void Connect_to_main_namespace()
    {
        var packet = DecodeComplete("0");
        Assert.Equal(PacketType.Connect, packet.Type);
        Assert.Equal("/", packet.Namespace);
        Assert.Null(packet.Id);
        Assert.Null(packet.Data);
        Assert.Empty(packet.Attachments);
    }

    [Fact]
    public void Connect_to_main_namespace_with_payload()
    {
        var packet = DecodeComplete("""0{"token":"123"}""");
        Assert.Equal("/", packet.Namespace);
        Assert.Equal("123", packet.Data!.Value.GetProperty("token").GetString());
    }

    [Fact]
    public void Connect_to_custom_namespace()
    {
        var packet = DecodeComplete("0/admin,");
        Assert.Equal(PacketType.Connect, packet.Type);
        Assert.Equal("/admin", packet.Namespace);
        Assert.Null(packet.Data);
    }

    [Fact]
    public void Connect_to_custom_namespace_with_payload()
    {
        var packet = DecodeComplete("""0/admin,{"token":"123"}""");
        Assert.Equal("/admin", packet.Namespace);
        Assert.Equal("""{"token":"123"}""", packet.Data!.Value.GetRawText());
    }

    // The compliance suite sends "40/custom" and "41/custom", without the ','.
    [Theory]
    [InlineData("0/custom", 0)]
    [InlineData("1/custom", 1)]
    public void Namespace_may_end_the_packet_without_comma(string text, byte type)
    {
        var packet = DecodeComplete(text);
        Assert.Equal((PacketType)type, packet.Type);
        Assert.Equal("/custom", packet.Namespace);
        Assert.Null(packet.Data);
    }

    [Fact]
    public void Event_in_main_namespace()
    {
        var packet = DecodeComplete("""2["foo"]""");
        Assert.Equal(PacketType.Event, packet.Type);
        Assert.Equal("/", packet.Namespace);
        Assert.Equal("foo", packet.EventName);
        Assert.Null(packet.Id);
        Assert.Equal("""["foo"]""", packet.Data!.Value.GetRawText());
    }

    [Fact]
    public void Event_in_custom_namespace()
    {
        var packet = DecodeComplete("""2/admin,["bar"]""");
        Assert.Equal("/admin", packet.Namespace);
        Assert.Equal("bar", packet.EventName);
    }

    [Fact]
    public void Event_with_ack_id()
    {
        var packet = DecodeComplete("""212["foo"]""");
        Assert.Equal(12, packet.Id);
        Assert.Equal("foo", packet.EventName);
    }

    [Fact]
    public void Event_with_ack_id_in_custom_namespace()
    {
        var packet = DecodeComplete("""2/admin,13["foo"]""");
        Assert.Equal("/admin", packet.Namespace);
        Assert.Equal(13, packet.Id);
    }

    [Fact]
    public void Event_with_mixed_arguments_from_compliance_suite()
    {
        var packet = DecodeComplete("""2456["message-with-ack",1,"2",{"3":[false]}]""");
        Assert.Equal(456, packet.Id);
        Assert.Equal("message-with-ack", packet.EventName);
        Assert.Equal("""["message-with-ack",1,"2",{"3":[false]}]""", packet.Data!.Value.GetRawText());
    }

    [Fact]
    public void Ack_with_empty_payload()
    {
        var packet = DecodeComplete("312[]");
        Assert.Equal(PacketType.Ack, packet.Type);
        Assert.Equal(12, packet.Id);
        Assert.Equal(0, packet.Data!.Value.GetArrayLength());
        Assert.Null(packet.EventName);
    }

    [Fact]
    public void Ack_in_custom_namespace()
    {
        var packet = DecodeComplete("""3/admin,13["bar"]""");
        Assert.Equal(PacketType.Ack, packet.Type);
        Assert.Equal("/admin", packet.Namespace);
        Assert.Equal(13, packet.Id);
        Assert.Equal("""["bar"]""", packet.Data!.Value.GetRawText());
    }

    [Fact]
    public void Binary_event_with_one_attachment()
    {
        var decoder = new PacketDecoder(10);
        Assert.Equal(DecodeStatus.AwaitingAttachments, decoder.DecodeText(Utf8("""51-["baz",{"_placeholder":true,"num":0}]"""), out var packet, out var error));
        Assert.Null(packet);
        Assert.Null(error);
        Assert.True(decoder.IsAwaitingAttachments);

        Assert.Equal(DecodeStatus.Complete, decoder.DecodeBinary(new ReadOnlySequence<byte>([1, 2, 3, 4]), out packet, out error));
        Assert.Null(error);
        Assert.False(decoder.IsAwaitingAttachments);
        Assert.Equal(PacketType.BinaryEvent, packet!.Type);
        Assert.Equal("baz", packet.EventName);
        Assert.Equal("""["baz",{"_placeholder":true,"num":0}]""", packet.Data!.Value.GetRawText());
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, Assert.Single(packet.Attachments));
    }

    [Fact]
    public void Binary_event_with_multiple_attachments_in_custom_namespace()
    {
        var decoder = new PacketDecoder(10);
        Assert.Equal(DecodeStatus.AwaitingAttachments, decoder.DecodeText(Utf8("""52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"""), out _, out _));
        Assert.Equal(DecodeStatus.AwaitingAttachments, decoder.DecodeBinary(new ReadOnlySequence<byte>([1, 2]), out var packet, out _));
        Assert.Null(packet);
        Assert.Equal(DecodeStatus.Complete, decoder.DecodeBinary(new ReadOnlySequence<byte>([3, 4]), out packet, out _));
        Assert.Equal("/admin", packet!.Namespace);
        Assert.Equal(2, packet.Attachments.Count);
        Assert.Equal(new byte[] { 1, 2 }, packet.Attachments[0]);
        Assert.Equal(new byte[] { 3, 4 }, packet.Attachments[1]);
    }

    [Fact]
    public void Binary_event_with_ack_id_from_compliance_suite()
    {
        var decoder = new PacketDecoder(10);
        decoder.DecodeText(Utf8("""52-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"""), out _, out _);
        decoder.DecodeBinary(new ReadOnlySequence<byte>([1, 2, 3]), out _, out _);
        Assert.Equal(DecodeStatus.Complete, decoder.DecodeBinary(new ReadOnlySequence<byte>([4, 5, 6]), out var packet, out _));
        Assert.Equal(789, packet!.Id);
        Assert.Equal("message-with-ack", packet.EventName);
    }

    [Fact]
    public void Binary_ack_with_ack_id()
    {
        var decoder = new PacketDecoder(10);
        decoder.DecodeText(Utf8("""61-15["bar",{"_placeholder":true,"num":0}]"""), out _, out _);
        Assert.Equal(DecodeStatus.Complete, decoder.DecodeBinary(new ReadOnlySequence<byte>([1, 2, 3, 4]), out var packet, out _));
        Assert.Equal(PacketType.BinaryAck, packet!.Type);
        Assert.Equal(15, packet.Id);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, Assert.Single(packet.Attachments));
    }

    [Fact]
    public void Binary_event_announcing_no_attachment_completes_at_once()
    {
        var packet = DecodeComplete("""50-["baz"]""");
        Assert.Equal(PacketType.BinaryEvent, packet.Type);
        Assert.Empty(packet.Attachments);
    }

    [Fact]
    public void Disconnect_from_main_namespace()
    {
        var packet = DecodeComplete("1");
        Assert.Equal(PacketType.Disconnect, packet.Type);
        Assert.Equal("/", packet.Namespace);
    }

    [Fact]
    public void Disconnect_from_custom_namespace()
    {
        var packet = DecodeComplete("1/admin,");
        Assert.Equal(PacketType.Disconnect, packet.Type);
        Assert.Equal("/admin", packet.Namespace);
    }

    // The reference parser accepts a number as event name; a JS listener gets it under its string form.
    [Theory]
    [InlineData("[1]", "1")]
    [InlineData("[42,\"x\"]", "42")]
    [InlineData("[-7]", "-7")]
    [InlineData("[1.5]", "1.5")]
    public void Numeric_event_name_is_accepted_as_its_string_form(string payload, string eventName)
    {
        Assert.Equal(eventName, DecodeComplete("2" + payload).EventName);
    }

    [Fact]
    public void Data_outlives_the_input_buffer()
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes("""2["foo",{"a":[1,2,3]}]""");
        new PacketDecoder(10).DecodeText(new ReadOnlySequence<byte>(bytes), out var packet, out _);
        Array.Fill(bytes, (byte)'x');
        Assert.Equal("""["foo",{"a":[1,2,3]}]""", packet!.Data!.Value.GetRawText());
        Assert.Equal(JsonValueKind.Array, packet.Data.Value.ValueKind);
    }
}
