using System.Buffers;
using System.Text;
using System.Text.Json;
using OrleansRooms.Protocol;
using static OrleansRooms.Tests.Protocol.ProtocolTestData;

namespace OrleansRooms.Tests.Protocol;

/// <summary>Binary data at any depth goes out as placeholders plus attachments and comes back as the same bytes.</summary>
public sealed class BinaryRoundTripTests
{
    public sealed record Photo(string Name, byte[] Content);

    public sealed record Album(string Title, List<Photo> Photos, Dictionary<string, byte[]> Thumbnails);

    public sealed record MemoryHolder(ReadOnlyMemory<byte> Head, Memory<byte> Body, ArraySegment<byte> Tail);

    [Fact]
    public void Top_level_byte_array_round_trips()
    {
        var encoded = PacketEncoder.Event("/", "upload", [new byte[] { 1, 2, 3 }], null, Web);
        var packet = Decode(encoded);

        Assert.Equal(PacketType.BinaryEvent, packet.Type);
        Assert.Equal(new byte[] { 1, 2, 3 }, PayloadSerializer.Deserialize<byte[]>(packet.Data!.Value[1], packet.Attachments, Web));
    }

    [Fact]
    public void Nested_byte_arrays_become_attachments_in_document_order()
    {
        var album = new Album(
            "holiday",
            [new Photo("a", [1, 1]), new Photo("b", [2, 2, 2])],
            new Dictionary<string, byte[]> { ["small"] = [3] });

        var encoded = PacketEncoder.Event("/photos", "album", [album], 7, Web);

        Assert.Equal(
            """453-/photos,7["album",{"title":"holiday","photos":[{"name":"a","content":{"_placeholder":true,"num":0}},{"name":"b","content":{"_placeholder":true,"num":1}}],"thumbnails":{"small":{"_placeholder":true,"num":2}}}]""",
            Text(encoded));
        Assert.Equal(3, encoded.AttachmentCount);

        var packet = Decode(encoded);
        Assert.Equal("/photos", packet.Namespace);
        Assert.Equal(7, packet.Id);
        var decoded = PayloadSerializer.Deserialize<Album>(packet.Data!.Value[1], packet.Attachments, Web)!;
        Assert.Equal("holiday", decoded.Title);
        Assert.Equal(new byte[] { 1, 1 }, decoded.Photos[0].Content);
        Assert.Equal(new byte[] { 2, 2, 2 }, decoded.Photos[1].Content);
        Assert.Equal(new byte[] { 3 }, decoded.Thumbnails["small"]);
    }

    [Fact]
    public void Memory_types_become_attachments_and_round_trip()
    {
        var backing = new byte[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
        var holder = new MemoryHolder(backing.AsMemory(0, 2), backing.AsMemory(2, 3), new ArraySegment<byte>(backing, 5, 5));

        var encoded = PacketEncoder.Event("/", "mem", [holder, backing.AsMemory(9, 1), new ArraySegment<byte>(backing, 1, 1), (ReadOnlyMemory<byte>)backing.AsMemory(8, 2)], null, Web);

        Assert.Equal(6, encoded.AttachmentCount);
        Assert.Equal(new byte[] { 0, 1 }, encoded.Parts[1].Payload.ToArray());
        Assert.Equal(new byte[] { 2, 3, 4 }, encoded.Parts[2].Payload.ToArray());
        Assert.Equal(new byte[] { 5, 6, 7, 8, 9 }, encoded.Parts[3].Payload.ToArray());
        Assert.Equal(new byte[] { 9 }, encoded.Parts[4].Payload.ToArray());
        Assert.Equal(new byte[] { 1 }, encoded.Parts[5].Payload.ToArray());
        Assert.Equal(new byte[] { 8, 9 }, encoded.Parts[6].Payload.ToArray());

        var packet = Decode(encoded);
        var decoded = PayloadSerializer.Deserialize<MemoryHolder>(packet.Data!.Value[1], packet.Attachments, Web)!;
        Assert.Equal(new byte[] { 0, 1 }, decoded.Head.ToArray());
        Assert.Equal(new byte[] { 2, 3, 4 }, decoded.Body.ToArray());
        Assert.Equal(new byte[] { 5, 6, 7, 8, 9 }, decoded.Tail.ToArray());
        Assert.Equal(new byte[] { 9 }, PayloadSerializer.Deserialize<Memory<byte>>(packet.Data.Value[2], packet.Attachments, Web).ToArray());
        Assert.Equal(new byte[] { 1 }, PayloadSerializer.Deserialize<ArraySegment<byte>>(packet.Data.Value[3], packet.Attachments, Web).ToArray());
        Assert.Equal(new byte[] { 8, 9 }, PayloadSerializer.Deserialize<ReadOnlyMemory<byte>>(packet.Data.Value[4], packet.Attachments, Web).ToArray());
    }

    [Fact]
    public void Byte_arrays_inside_object_typed_members_and_lists_become_attachments()
    {
        var args = new object?[] { new List<object> { "x", new byte[] { 1 } }, new Dictionary<string, object?> { ["blob"] = new byte[] { 2 } } };
        var encoded = PacketEncoder.Event("/", "mixed", args, null, Web);
        Assert.Equal("""452-["mixed",["x",{"_placeholder":true,"num":0}],{"blob":{"_placeholder":true,"num":1}}]""", Text(encoded));
    }

    [Fact]
    public void Binary_ack_round_trips_with_several_attachments()
    {
        var encoded = PacketEncoder.Ack("/admin", 42, ["ok", new byte[] { 1 }, new byte[] { 2, 2 }, new byte[] { 3, 3, 3 }], Web);
        Assert.Equal(PacketType.BinaryAck, Decode(encoded).Type);

        var packet = Decode(encoded);
        Assert.Equal(42, packet.Id);
        Assert.Equal(3, packet.Attachments.Count);
        Assert.Equal(new byte[] { 3, 3, 3 }, PayloadSerializer.Deserialize<byte[]>(packet.Data!.Value[3], packet.Attachments, Web));
    }

    [Fact]
    public void Empty_byte_array_is_an_attachment_too()
    {
        var encoded = PacketEncoder.Event("/", "empty", [Array.Empty<byte>()], null, Web);
        Assert.Equal("""451-["empty",{"_placeholder":true,"num":0}]""", Text(encoded));
        Assert.Equal(0, encoded.Parts[1].PayloadLength);
        Assert.Empty(Assert.Single(Decode(encoded).Attachments));
    }

    [Fact]
    public void Null_byte_array_is_null_not_an_attachment()
    {
        var encoded = PacketEncoder.Event("/", "none", [new Photo("x", null!)], null, Web);
        Assert.Equal("""42["none",{"name":"x","content":null}]""", Text(encoded));
    }

    [Fact]
    public void Same_array_twice_gives_two_attachments()
    {
        var bytes = new byte[] { 7 };
        var encoded = PacketEncoder.Event("/", "twice", [bytes, bytes], null, Web);
        Assert.Equal(2, encoded.AttachmentCount);
    }

    [Fact]
    public void Attachments_are_copied_so_the_caller_may_reuse_its_buffer()
    {
        var bytes = new byte[] { 1, 2, 3 };
        var encoded = PacketEncoder.Event("/", "copy", [bytes], null, Web);
        bytes[0] = 9;
        Assert.Equal(new byte[] { 1, 2, 3 }, encoded.Parts[1].Payload.ToArray());
    }

    [Fact]
    public void Attachments_are_copied_out_of_the_receive_buffer()
    {
        var decoder = new PacketDecoder(10);
        decoder.DecodeText(Utf8("""51-["foo",{"_placeholder":true,"num":0}]"""), out _, out _);
        var receiveBuffer = new byte[] { 1, 2, 3 };
        decoder.DecodeBinary(new ReadOnlySequence<byte>(receiveBuffer), out var packet, out _);
        receiveBuffer[0] = 9;
        Assert.Equal(new byte[] { 1, 2, 3 }, packet!.Attachments[0]);
    }

    [Fact]
    public void Multi_segment_attachment_is_joined()
    {
        var decoder = new PacketDecoder(10);
        decoder.DecodeText(Utf8("""51-["foo",{"_placeholder":true,"num":0}]"""), out _, out _);
        var bytes = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        Assert.Equal(DecodeStatus.Complete, decoder.DecodeBinary(Segmented(bytes, 1, 50, 99), out var packet, out _));
        Assert.Equal(bytes, packet!.Attachments[0]);
    }

    public static TheoryData<string> SplitPackets =>
    [
        "0",
        "0/admin,",
        "0/custom",
        """0/admin,{"token":"123"}""",
        """2["foo"]""",
        """2/admin,13["foo",{"a":[1,2,"x"]}]""",
        """3/admin,13["bar"]""",
        """2["h\u00e9llo","\u65e5\u672c","\ud83d\ude00"]""",
        """2["héllo","日本","😀"]""",
        """2/ñamespace,1["ünïcode"]""",
        """52-/admin,789["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]""",
        """61-15["bar",{"_placeholder":true,"num":0}]""",
    ];

    /// <summary>Whatever segment boundary a transport hands the decoder, the packet is the same.</summary>
    [Theory]
    [MemberData(nameof(SplitPackets))]
    public void Every_split_into_two_or_three_segments_decodes_like_a_single_segment(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var single = DecodeTextOnly(new ReadOnlySequence<byte>(bytes));
        for (var i = 1; i < bytes.Length; i++)
        {
            AssertSame(single, DecodeTextOnly(Segmented(bytes, i)));
            for (var j = i + 1; j < bytes.Length; j++)
            {
                AssertSame(single, DecodeTextOnly(Segmented(bytes, i, j)));
            }
        }

        // Empty segments too.
        AssertSame(single, DecodeTextOnly(Segmented(bytes, 0, 1, 1, bytes.Length)));
    }

    [Fact]
    public void Multi_segment_invalid_input_is_still_an_error()
    {
        var bytes = Encoding.UTF8.GetBytes("""2/admin,1x["foo"]""");
        for (var i = 1; i < bytes.Length; i++)
        {
            Assert.Equal(DecodeStatus.Error, new PacketDecoder(10).DecodeText(Segmented(bytes, i), out _, out _));
        }
    }

    [Fact]
    public void Large_multi_segment_payload_decodes()
    {
        var big = new string('x', 200_000);
        var bytes = Encoding.UTF8.GetBytes($"2[\"big\",\"{big}\"]");
        var boundaries = Enumerable.Range(1, (bytes.Length - 1) / 4096).Select(i => i * 4096).ToArray();
        var status = new PacketDecoder(10).DecodeText(Segmented(bytes, boundaries), out var packet, out var error);
        Assert.Null(error);
        Assert.Equal(DecodeStatus.Complete, status);
        Assert.Equal(big, packet!.Data!.Value[1].GetString());
    }

    /// <summary>Decodes the text, then feeds attachment k as the single byte k until the packet completes.</summary>
    private static (DecodeStatus Status, Packet? Packet, string? Error) DecodeTextOnly(ReadOnlySequence<byte> input)
    {
        var decoder = new PacketDecoder(10);
        var status = decoder.DecodeText(input, out var packet, out var error);
        for (byte k = 0; status == DecodeStatus.AwaitingAttachments; k++)
        {
            Assert.Null(packet);
            status = decoder.DecodeBinary(new ReadOnlySequence<byte>([k]), out packet, out error);
        }

        Assert.Equal(DecodeStatus.Complete, status);
        return (status, packet, error);
    }

    private static void AssertSame((DecodeStatus Status, Packet? Packet, string? Error) expected, (DecodeStatus Status, Packet? Packet, string? Error) actual)
    {
        Assert.Equal(expected.Status, actual.Status);
        Assert.Equal(expected.Error, actual.Error);
        if (expected.Packet is null)
        {
            Assert.Null(actual.Packet);
            return;
        }

        Assert.Equal(expected.Packet.Type, actual.Packet!.Type);
        Assert.Equal(expected.Packet.Namespace, actual.Packet.Namespace);
        Assert.Equal(expected.Packet.Id, actual.Packet.Id);
        Assert.Equal(expected.Packet.EventName, actual.Packet.EventName);
        Assert.Equal(expected.Packet.Data?.GetRawText(), actual.Packet.Data?.GetRawText());
        Assert.Equal(expected.Packet.Attachments, actual.Packet.Attachments);
    }
}
