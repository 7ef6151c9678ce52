using System.Buffers;
using System.Text;
using System.Text.Json;
using OrleansRooms.Engine;
using OrleansRooms.Protocol;

namespace OrleansRooms.Tests.Protocol;

internal static class ProtocolTestData
{
    public static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Every packet a client may send in the Socket.IO v5 spec and its compliance suite, as the decoder sees it (the
    /// Engine.IO <c>4</c> removed): the decoding tests' examples, and the seed corpus of the fuzz tests.
    /// </summary>
    public static readonly string[] SpecClientPackets =
    [
        "0", """0{"token":"123"}""", "0/admin,", """0/admin,{"token":"123"}""", "0/custom", "1", "1/admin,", "1/custom",
        """2["foo"]""", """2/admin,["bar"]""", """212["foo"]""", """2/admin,13["foo"]""",
        """2456["message-with-ack",1,"2",{"3":[false]}]""", "312[]", """3/admin,13["bar"]""",
        """51-["baz",{"_placeholder":true,"num":0}]""", """52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]""",
        """52-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]""",
        """61-15["bar",{"_placeholder":true,"num":0}]""", """2[1]""", """2["\u00e9\ud83d\ude00",{"a":[1.5e3,-7,null,true]}]""",
    ];

    /// <summary>The Socket.IO text of an encoded packet, Engine.IO <c>4</c> included.</summary>
    public static string Text(EncodedPacket packet) => Encoding.UTF8.GetString(packet.Text.Payload.Span);

    public static ReadOnlySequence<byte> Utf8(string text) => new(Encoding.UTF8.GetBytes(text));

    /// <summary>The bytes split into one segment per chunk boundary given.</summary>
    public static ReadOnlySequence<byte> Segmented(byte[] bytes, params int[] boundaries)
    {
        var start = 0;
        Segment? first = null;
        Segment? last = null;
        foreach (var end in boundaries.Append(bytes.Length))
        {
            var segment = new Segment(bytes.AsMemory(start, end - start));
            if (first is null)
            {
                first = last = segment;
            }
            else
            {
                last = last!.Append(segment);
            }

            start = end;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    /// <summary>A client's text packet, as the decoder sees it once the Engine.IO <c>4</c> is removed.</summary>
    public static ReadOnlySequence<byte> WithoutEnginePrefix(EnginePacket packet)
    {
        var payload = packet.Payload;
        Assert.Equal((byte)'4', payload.Span[0]);
        return new ReadOnlySequence<byte>(payload[1..]);
    }

    /// <summary>Decodes an encoded packet as a client would send it back: text, then each attachment.</summary>
    public static Packet Decode(EncodedPacket encoded, int maxAttachments = 10)
    {
        var decoder = new PacketDecoder(maxAttachments);
        var status = decoder.DecodeText(WithoutEnginePrefix(encoded.Text), out var packet, out var error);
        Assert.Null(error);
        for (var i = 1; i < encoded.Parts.Length; i++)
        {
            Assert.Equal(DecodeStatus.AwaitingAttachments, status);
            Assert.True(encoded.Parts[i].IsBinary);
            status = decoder.DecodeBinary(new ReadOnlySequence<byte>(encoded.Parts[i].Payload), out packet, out error);
            Assert.Null(error);
        }

        Assert.Equal(DecodeStatus.Complete, status);
        return packet!;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(Segment next)
        {
            next.RunningIndex = RunningIndex + Memory.Length;
            Next = next;
            return next;
        }
    }
}
