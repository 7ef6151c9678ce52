using System.Text;
using OrleansRooms.Protocol;

namespace OrleansRooms.Tests.Protocol;

/// <summary>The data array travels between gateways without the packet header; the receiver adds its own.</summary>
public sealed class ClusterDataTests
{
    [Theory]
    [InlineData("/", null)]
    [InlineData("/chat", null)]
    [InlineData("/", 12)]
    [InlineData("/chat", 7)]
    public void DataOf_returns_the_json_array_of_an_event(string nsp, int? ackId)
    {
        var packet = PacketEncoder.Event(nsp, "ev", [1, "two"], ackId, new(System.Text.Json.JsonSerializerDefaults.Web));

        Assert.Equal("[\"ev\",1,\"two\"]", Encoding.UTF8.GetString(PacketEncoder.DataOf(packet).Span));
    }

    [Fact]
    public void DataOf_skips_the_attachment_count_of_a_binary_event()
    {
        var packet = PacketEncoder.Event("/chat", "ev", [new byte[] { 1, 2 }], 3, new(System.Text.Json.JsonSerializerDefaults.Web));

        Assert.Equal("[\"ev\",{\"_placeholder\":true,\"num\":0}]", Encoding.UTF8.GetString(PacketEncoder.DataOf(packet).Span));
    }

    [Fact]
    public void EventFromData_writes_the_header_of_this_gateway()
    {
        var data = "[\"ev\",{\"_placeholder\":true,\"num\":0}]"u8.ToArray();

        var packet = PacketEncoder.EventFromData("/chat", data, [new byte[] { 9 }], 42);

        Assert.Equal("451-/chat,42[\"ev\",{\"_placeholder\":true,\"num\":0}]", Encoding.UTF8.GetString(packet.Text.Payload.Span));
        Assert.Equal(new byte[] { 9 }, packet.Parts[1].Payload.ToArray());
        Assert.Equal("42[\"x\"]", Encoding.UTF8.GetString(PacketEncoder.EventFromData("/", "[\"x\"]"u8, [], null).Text.Payload.Span));
    }
}
