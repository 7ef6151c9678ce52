using System.Text;
using OrleansRooms.Grains;
using OrleansRooms.Silo.Messaging;

namespace OrleansRooms.Silo.Tests.Cluster;

public sealed class ClusterMessageCodecTests
{
    [Fact]
    public void Every_field_round_trips_with_attachments_and_unicode()
    {
        var message = new ClusterMessage
        {
            Type = ClusterMessageType.SocketsJoin,
            Namespace = "/チャット",
            Source = "gw-Ω",
            RequestId = "req-42",
            Rooms = ["room 1", "😀 emoji", ""],
            Except = ["ex-é"],
            TargetRooms = ["target"],
            Flags = ClusterMessageFlags.Volatile | ClusterMessageFlags.Close,
            Count = -123456789012,
            Data = Encoding.UTF8.GetBytes("[\"ev\",{\"_placeholder\":true,\"num\":0},\"ü\"]"),
            Attachments = [new byte[] { 0, 1, 2, 255 }, Array.Empty<byte>(), Enumerable.Range(0, 70_000).Select(i => (byte)i).ToArray()],
        };

        var frame = ClusterMessageCodec.Encode(message);

        Assert.Equal(ClusterMessageCodec.Version, frame[0]);
        Assert.True(ClusterMessageCodec.TryDecode(frame, out var decoded));
        Assert.Equal(message.Type, decoded!.Type);
        Assert.Equal(message.Namespace, decoded.Namespace);
        Assert.Equal(message.Source, decoded.Source);
        Assert.Equal(message.RequestId, decoded.RequestId);
        Assert.Equal(message.Rooms, decoded.Rooms);
        Assert.Equal(message.Except, decoded.Except);
        Assert.Equal(message.TargetRooms, decoded.TargetRooms);
        Assert.Equal(message.Flags, decoded.Flags);
        Assert.Equal(message.Count, decoded.Count);
        Assert.Equal(message.Data.ToArray(), decoded.Data.ToArray());
        Assert.Equal(message.Attachments.Select(a => a.ToArray()), decoded.Attachments.Select(a => a.ToArray()));
    }

    [Fact]
    public void A_minimal_message_round_trips_and_owns_its_memory()
    {
        var frame = ClusterMessageCodec.Encode(new ClusterMessage { Type = ClusterMessageType.Broadcast, Namespace = "/", Data = "[\"x\"]"u8.ToArray() });

        Assert.True(ClusterMessageCodec.TryDecode(frame, out var decoded));
        Array.Clear(frame); // the subscription's buffer is reused after the callback
        Assert.Equal("/", decoded!.Namespace);
        Assert.Empty(decoded.Rooms);
        Assert.Empty(decoded.Attachments);
        Assert.Equal(0, decoded.Count);
        Assert.Equal("[\"x\"]", Encoding.UTF8.GetString(decoded.Data.Span));
    }

    [Fact]
    public void The_pooled_encoding_matches_the_exact_length()
    {
        var message = new ClusterMessage { Type = ClusterMessageType.Broadcast, Namespace = "/n", Rooms = ["a"], Count = long.MaxValue };
        byte[] pooled = ClusterMessageCodec.EncodePooled(message, out int length);

        Assert.Equal(ClusterMessageCodec.GetEncodedLength(message), length);
        Assert.Equal(ClusterMessageCodec.Encode(message), pooled[..length]);
        System.Buffers.ArrayPool<byte>.Shared.Return(pooled);
    }

    [Fact]
    public void Truncated_corrupt_or_unknown_version_frames_are_rejected()
    {
        var frame = ClusterMessageCodec.Encode(new ClusterMessage
        {
            Type = ClusterMessageType.Broadcast,
            Namespace = "/",
            Rooms = ["room"],
            Data = "[1]"u8.ToArray(),
            Attachments = [new byte[] { 1, 2, 3 }],
        });

        for (int length = 0; length < frame.Length; length++)
        {
            Assert.False(ClusterMessageCodec.TryDecode(frame.AsSpan(0, length), out _), $"truncated to {length}");
        }

        Assert.False(ClusterMessageCodec.TryDecode([.. frame, 0], out _));
        var otherVersion = frame.ToArray();
        otherVersion[0] = 2;
        Assert.False(ClusterMessageCodec.TryDecode(otherVersion, out _));
        Assert.False(ClusterMessageCodec.TryDecode([1, 1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], out _));
    }
}
