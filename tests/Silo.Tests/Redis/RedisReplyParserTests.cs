using System.Buffers;
using System.Text;
using OrleansRooms.Silo.Redis;

namespace OrleansRooms.Silo.Tests.Redis;

public sealed class RedisReplyParserTests
{
    private const string Mixed = "+OK\r\n-ERR bad thing\r\n:-42\r\n$5\r\nhe\r\no\r\n$-1\r\n*-1\r\n*0\r\n$0\r\n\r\n*3\r\n:1\r\n*2\r\n$1\r\na\r\n+b\r\n$-1\r\n";

    [Fact]
    public void Every_reply_type_is_read()
    {
        var replies = ReadAll(Encoding.UTF8.GetBytes(Mixed));

        Assert.Equal(9, replies.Count);
        Assert.Equal(RedisReplyType.SimpleString, replies[0].Type);
        Assert.Equal("OK", replies[0].AsString());
        Assert.True(replies[1].IsError);
        Assert.Equal("ERR bad thing", replies[1].ErrorMessage);
        Assert.Equal(-42, replies[2].AsInt64());
        Assert.Equal("he\r\no", replies[3].AsString());
        Assert.True(replies[4].IsNull);
        Assert.Null(replies[4].AsBytes());
        Assert.True(replies[5].IsNull);
        Assert.Null(replies[5].AsArray());
        Assert.Empty(replies[6].AsArray()!);
        Assert.Equal("", replies[7].AsString());
        var nested = replies[8].AsArray()!;
        Assert.Equal(1, nested[0].AsInt64());
        Assert.Equal("a", nested[1].AsArray()![0].AsString());
        Assert.Equal("b", nested[1].AsArray()![1].AsString());
        Assert.True(nested[2].IsNull);
    }

    [Fact]
    public void Incomplete_input_reads_nothing_at_every_split_and_every_segmentation()
    {
        byte[] bytes = Encoding.UTF8.GetBytes(Mixed);
        var expected = ReadAll(bytes).Select(r => r.ToString()).ToList();
        for (int split = 1; split < bytes.Length; split++)
        {
            // The prefix alone never yields a partial reply and never throws.
            var prefix = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes, 0, split));
            int whole = 0;
            while (RedisReplyParser.TryRead(ref prefix, out _))
            {
                whole++;
            }

            Assert.True(whole < expected.Count);

            // The same bytes in two segments read the same replies.
            var sequence = Segments(bytes[..split], bytes[split..]);
            var reader = new SequenceReader<byte>(sequence);
            var replies = new List<string>();
            while (RedisReplyParser.TryRead(ref reader, out var reply))
            {
                replies.Add(reply.ToString());
            }

            Assert.Equal(expected, replies);
            Assert.Equal(0, reader.Remaining);
        }
    }

    [Theory]
    [InlineData("?what\r\n")]
    [InlineData(":12x\r\n")]
    [InlineData("$3\r\nabcd\r\n")]
    [InlineData("$-7\r\n")]
    public void Malformed_input_is_a_protocol_error(string text)
    {
        Assert.Throws<RedisProtocolException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text)));
            RedisReplyParser.TryRead(ref reader, out _);
        });
    }

    [Fact]
    public void Commands_are_written_as_arrays_of_bulk_strings()
    {
        var writer = new ArrayBufferWriter<byte>();
        RedisCommand.WithKey("SET", "k", "é", 12, new byte[] { 0, 13, 10 }).WriteTo(writer);

        Assert.Equal("*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n$2\r\n12\r\n$3\r\n\0\r\n\r\n", Encoding.UTF8.GetString(writer.WrittenSpan));
    }

    private static List<RedisReply> ReadAll(byte[] bytes)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        var replies = new List<RedisReply>();
        while (RedisReplyParser.TryRead(ref reader, out var reply))
        {
            replies.Add(reply);
        }

        return replies;
    }

    private static ReadOnlySequence<byte> Segments(byte[] first, byte[] second)
    {
        var head = new Segment(first, 0);
        var tail = head.Append(second);
        return new ReadOnlySequence<byte>(head, 0, tail, second.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
