using System.Text.Json;
using OrleansRooms.Protocol;
using static OrleansRooms.Tests.Protocol.ProtocolTestData;

namespace OrleansRooms.Tests.Protocol;

/// <summary>Every packet example of the v5 spec (and its sample session and compliance suite), as a server encodes it.</summary>
public sealed class SpecExampleEncodingTests
{
    [Fact]
    public void Connect_to_main_namespace_answers_with_sid()
    {
        var packet = PacketEncoder.Connect("/", "wZX3oN0bSVIhsaknAAAI");
        Assert.Equal("""40{"sid":"wZX3oN0bSVIhsaknAAAI"}""", Text(packet));
        Assert.Single(packet.Parts);
    }

    [Fact]
    public void Connect_to_custom_namespace_answers_with_sid()
    {
        Assert.Equal("""40/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}""", Text(PacketEncoder.Connect("/admin", "oSO0OpakMV_3jnilAAAA")));
    }

    [Fact]
    public void Connect_error_has_message()
    {
        Assert.Equal("""44{"message":"Not authorized"}""", Text(PacketEncoder.ConnectError("/", "Not authorized", null, Web)));
    }

    [Fact]
    public void Connect_error_to_unknown_namespace_names_it()
    {
        Assert.Equal("""44/random,{"message":"Invalid namespace"}""", Text(PacketEncoder.ConnectError("/random", "Invalid namespace", null, Web)));
    }

    [Fact]
    public void Connect_error_with_data_serializes_it_with_the_options()
    {
        var packet = PacketEncoder.ConnectError("/", "Not authorized", new { RetryAfter = 5, Content = new byte[] { 1, 2 } }, Web);
        Assert.Equal("""44{"message":"Not authorized","data":{"retryAfter":5,"content":"AQI="}}""", Text(packet));
        Assert.Single(packet.Parts);
    }

    [Fact]
    public void Event_in_main_namespace()
    {
        Assert.Equal("""42["foo"]""", Text(PacketEncoder.Event("/", "foo", [], null, Web)));
    }

    [Fact]
    public void Event_in_custom_namespace()
    {
        Assert.Equal("""42/admin,["bar"]""", Text(PacketEncoder.Event("/admin", "bar", [], null, Web)));
    }

    [Fact]
    public void Event_from_sample_session()
    {
        Assert.Equal("""42["hey","Jude"]""", Text(PacketEncoder.Event("/", "hey", ["Jude"], null, Web)));
    }

    [Fact]
    public void Event_with_binary_data_becomes_binary_event_with_one_attachment()
    {
        var packet = PacketEncoder.Event("/", "baz", [new byte[] { 1, 2, 3, 4 }], null, Web);
        Assert.Equal("""451-["baz",{"_placeholder":true,"num":0}]""", Text(packet));
        Assert.Equal(2, packet.Parts.Length);
        Assert.Equal(1, packet.AttachmentCount);
        Assert.True(packet.Parts[1].IsBinary);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, packet.Parts[1].Payload.ToArray());
    }

    [Fact]
    public void Event_with_multiple_attachments_in_custom_namespace()
    {
        var packet = PacketEncoder.Event("/admin", "baz", [new byte[] { 1, 2 }, new byte[] { 3, 4 }], null, Web);
        Assert.Equal("""452-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]""", Text(packet));
        Assert.Equal(new byte[] { 1, 2 }, packet.Parts[1].Payload.ToArray());
        Assert.Equal(new byte[] { 3, 4 }, packet.Parts[2].Payload.ToArray());
    }

    [Fact]
    public void Event_with_ack_id_in_main_namespace()
    {
        Assert.Equal("""4212["foo"]""", Text(PacketEncoder.Event("/", "foo", [], 12, Web)));
    }

    [Fact]
    public void Event_with_ack_id_in_custom_namespace()
    {
        Assert.Equal("""42/admin,13["foo"]""", Text(PacketEncoder.Event("/admin", "foo", [], 13, Web)));
    }

    [Fact]
    public void Ack_with_empty_payload()
    {
        Assert.Equal("4312[]", Text(PacketEncoder.Ack("/", 12, [], Web)));
    }

    [Fact]
    public void Ack_in_custom_namespace()
    {
        Assert.Equal("""43/admin,13["bar"]""", Text(PacketEncoder.Ack("/admin", 13, ["bar"], Web)));
    }

    [Fact]
    public void Ack_with_binary_data_becomes_binary_ack()
    {
        var packet = PacketEncoder.Ack("/", 15, ["bar", new byte[] { 1, 2, 3, 4 }], Web);
        Assert.Equal("""461-15["bar",{"_placeholder":true,"num":0}]""", Text(packet));
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, packet.Parts[1].Payload.ToArray());
    }

    [Fact]
    public void Binary_ack_in_custom_namespace_from_sample_session()
    {
        var packet = PacketEncoder.Ack("/admin", 1, [new byte[] { 9 }], Web);
        Assert.Equal("""461-/admin,1[{"_placeholder":true,"num":0}]""", Text(packet));
    }

    [Fact]
    public void Ack_echoing_mixed_arguments_from_compliance_suite()
    {
        var args = JsonDocument.Parse("""[1,"2",{"3":[false]}]""").RootElement;
        var packet = PacketEncoder.Ack("/", 456, [args[0], args[1], args[2]], Web);
        Assert.Equal("""43456[1,"2",{"3":[false]}]""", Text(packet));
    }

    [Fact]
    public void Binary_event_echo_from_compliance_suite()
    {
        var packet = PacketEncoder.Event("/", "message-back", [new byte[] { 1, 2, 3 }, new byte[] { 4, 5, 6 }], null, Web);
        Assert.Equal("""452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]""", Text(packet));
    }

    [Fact]
    public void Binary_ack_echo_from_compliance_suite()
    {
        var packet = PacketEncoder.Ack("/", 789, [new byte[] { 1, 2, 3 }, new byte[] { 4, 5, 6 }], Web);
        Assert.Equal("""462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]""", Text(packet));
    }

    [Fact]
    public void Disconnect_from_main_namespace()
    {
        Assert.Equal("41", Text(PacketEncoder.Disconnect("/")));
    }

    [Fact]
    public void Disconnect_from_custom_namespace()
    {
        Assert.Equal("41/admin,", Text(PacketEncoder.Disconnect("/admin")));
    }
}
