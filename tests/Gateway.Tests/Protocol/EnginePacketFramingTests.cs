using System.Text;
using OrleansRooms.Engine;
using OrleansRooms.Protocol;
using static OrleansRooms.Tests.Protocol.ProtocolTestData;

namespace OrleansRooms.Tests.Protocol;

/// <summary>The encoded packet is the bytes a WebSocket frame or a polling payload carries, with nothing to add.</summary>
public sealed class EnginePacketFramingTests
{
    [Fact]
    public void Small_text_packet_has_a_seven_bit_length_frame()
    {
        var packet = PacketEncoder.Event("/", "foo", [], null, Web).Text;
        var frame = packet.WebSocketFrame.ToArray();

        Assert.False(packet.IsBinary);
        Assert.Equal(0x81, frame[0]); // FIN + text
        Assert.Equal(9, frame[1]);    // unmasked, length of 42["foo"]
        Assert.Equal("42[\"foo\"]", Encoding.UTF8.GetString(frame.AsSpan(2)));
        Assert.Equal(2 + 9, frame.Length);
        Assert.Equal("42[\"foo\"]", Encoding.UTF8.GetString(packet.PollingPayload.Span));
    }

    [Theory]
    [InlineData(125, 2)]
    [InlineData(126, 4)]
    [InlineData(65535, 4)]
    [InlineData(65536, 10)]
    [InlineData(300_000, 10)]
    public void Frame_header_uses_the_length_form_for_the_payload_size(int payloadLength, int headerLength)
    {
        // 42["x","<filler>"] is 10 bytes + filler.
        var filler = new string('a', payloadLength - 10);
        var packet = PacketEncoder.Event("/", "x", [filler], null, Web).Text;
        Assert.Equal(payloadLength, packet.PayloadLength);

        var frame = packet.WebSocketFrame.Span;
        Assert.Equal(headerLength + payloadLength, frame.Length);
        Assert.Equal(0x81, frame[0]);
        switch (headerLength)
        {
            case 2:
                Assert.Equal(payloadLength, frame[1]);
                break;
            case 4:
                Assert.Equal(126, frame[1]);
                Assert.Equal(payloadLength, (frame[2] << 8) | frame[3]);
                break;
            default:
                Assert.Equal(127, frame[1]);
                long length = 0;
                for (var i = 0; i < 8; i++)
                {
                    length = (length << 8) | frame[2 + i];
                }

                Assert.Equal(payloadLength, length);
                break;
        }

        Assert.Equal((byte)'4', frame[headerLength]);
        Assert.Equal((byte)'2', frame[headerLength + 1]);
        Assert.Equal((byte)']', frame[^1]);
        Assert.True(packet.PollingPayload.Span.SequenceEqual(frame[headerLength..]));
    }

    [Fact]
    public void Attachment_is_a_binary_frame_and_base64_in_polling()
    {
        var encoded = PacketEncoder.Event("/", "baz", [new byte[] { 1, 2, 3, 4 }], null, Web);
        var attachment = encoded.Parts[1];

        Assert.True(attachment.IsBinary);
        Assert.Equal(new byte[] { 0x82, 4, 1, 2, 3, 4 }, attachment.WebSocketFrame.ToArray());
        Assert.Equal("bAQIDBA==", Encoding.UTF8.GetString(attachment.PollingPayload.Span));
        Assert.Equal("451-[\"baz\",{\"_placeholder\":true,\"num\":0}]", Encoding.UTF8.GetString(encoded.Text.PollingPayload.Span));
    }

    [Fact]
    public void Large_attachment_uses_the_64_bit_length_form()
    {
        var bytes = new byte[70_000];
        new Random(1).NextBytes(bytes);
        var attachment = PacketEncoder.Event("/", "big", [bytes], null, Web).Parts[1];
        var frame = attachment.WebSocketFrame.Span;
        Assert.Equal(0x82, frame[0]);
        Assert.Equal(127, frame[1]);
        Assert.True(frame[10..].SequenceEqual(bytes));
    }

    [Fact]
    public void Text_payload_starts_at_the_reserved_header_offset()
    {
        // PacketEncoder builds through FromReservedBuffer; the same text through FromText must give the same frame.
        var encoded = PacketEncoder.Event("/admin", "foo", ["é"], 3, Web).Text;
        var reference = EnginePacket.FromText(Encoding.UTF8.GetString(encoded.Payload.Span));
        Assert.True(reference.WebSocketFrame.Span.SequenceEqual(encoded.WebSocketFrame.Span));
    }
}
