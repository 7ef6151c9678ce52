using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using CsCheck;
using OrleansRooms.Engine;
using OrleansRooms.Protocol;
using OrleansRooms.Tests.Protocol;
using Xunit.Abstractions;

namespace OrleansRooms.Tests.Fuzz;

/// <summary>
/// Fuzzing of the parsers in process: the Socket.IO packet decoder and the WebSocket frame header reader, fed mutations
/// of valid inputs. Only the documented results may come out: a status and, for an error, a message; never an
/// exception, and never a packet that breaks what the rest of the server relies on (every string readable, an ack id
/// a JavaScript client can mean, at most the allowed attachments).
/// <para>
/// CsCheck, not SharpFuzz or FsCheck: it runs in process in the ordinary test run (SharpFuzz needs an instrumented
/// build and AFL outside it), draws every choice from one seeded PCG so a failure replays from its seed, and shrinks a
/// failing input towards the valid seed it came from; FsCheck would do the same job with an F#-first API.
/// </para>
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class ParserFuzzTests(ITestOutputHelper output)
{
    private const int MaxAttachments = 3;

    private readonly FuzzBudget _budget = new(output);

    /// <summary>One message as the Engine.IO layer hands it over, and where to split it into two buffer segments.</summary>
    public sealed record Message(bool IsBinary, byte[] Bytes, int Split)
    {
        public override string ToString() => IsBinary ? $"binary {Convert.ToHexString(Bytes)}" : $"text {JsonSerializer.Serialize(Encoding.UTF8.GetString(Bytes))} (hex {Convert.ToHexString(Bytes)})";
    }

    [Fact]
    public void Socket_io_decoder_gives_only_documented_results()
    {
        var text = Mutator.Of(Mutator.Utf8(ProtocolTestData.SpecClientPackets));
        var message = Gen.Select(Gen.Int[0, 5], text, Gen.Byte.Array[0, 8], Gen.Int[0, int.MaxValue],
            (kind, utf8, binary, split) => kind == 0 ? new Message(true, binary, split) : new Message(false, utf8, split));

        _budget.Run("Socket.IO decoder", message.Array[1, 5], messages =>
        {
            // The same messages, whole and split in two segments, must give the same results (System.Text.Json's error
            // texts differ between the two, so an error is compared by its status only).
            var whole = new PacketDecoder(MaxAttachments);
            var split = new PacketDecoder(MaxAttachments);
            foreach (var m in messages)
            {
                var a = Decode(whole, m, new ReadOnlySequence<byte>(m.Bytes));
                var b = Decode(split, m, TwoSegments(m.Bytes, m.Split));
                Assert.Equal(a, b);
            }
        }, executions: 8_000, print: m => string.Join(" | ", m.Select(x => x.ToString())));
    }

    [Fact]
    public void WebSocket_frame_header_reader_reads_whole_headers_or_nothing()
    {
        var corpus = new List<byte[]>();
        foreach (var first in (byte[])[0x81, 0x82, 0x01, 0x80, 0x88, 0x89, 0x8A, 0xC1, 0x83, 0x09])
        {
            foreach (var length in (long[])[0, 5, 125, 126, 65535, 65536, 1_000_000, long.MaxValue])
            {
                corpus.Add(Header(first, length, masked: true));
            }
        }

        corpus.Add(Header(0x81, 5, masked: false));
        var input = Gen.Select(Mutator.Of(corpus), Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue], (bytes, cut1, cut2) => (bytes, cut1, cut2));

        _budget.Run("WebSocket frame header", input, t =>
        {
            var (bytes, cut1, cut2) = t;
            var expected = Read(new ReadOnlySequence<byte>(bytes));
            Assert.Equal(expected, Read(TwoSegments(bytes, cut1)));
            Assert.Equal(expected, Read(ThreeSegments(bytes, cut1, cut2)));
            if (expected is not { } header)
            {
                return;
            }

            // What was read is what the bytes say (RFC 6455 §5.2), and a header passes Validate only when it is sound.
            var size = (bytes[1] & 0x7F) switch { 126 => 4, 127 => 10, _ => 2 } + ((bytes[1] & 0x80) != 0 ? 4 : 0);
            Assert.Equal(size, header.Consumed);
            var length = (bytes[1] & 0x7F) switch
            {
                126 => BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(2)),
                127 => BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(2)),
                var small => small,
            };
            Assert.Equal(length, header.PayloadLength);
            if (header.Status == 0)
            {
                Assert.True(header.PayloadLength >= 0 && (bytes[1] & 0x80) != 0 && (bytes[0] & 0x70) == 0);
                var opcode = bytes[0] & 0x0F;
                Assert.Contains(opcode, (int[])[0, 1, 2, 8, 9, 10]);
                Assert.True(opcode < 8 || ((bytes[0] & 0x80) != 0 && header.PayloadLength <= 125), "a control frame passed as fragmented or long");
            }
            else
            {
                Assert.Equal(WebSocketFrameHeader.ProtocolError, header.Status);
                Assert.False(string.IsNullOrEmpty(header.Why));
            }
        }, executions: 20_000, print: t => Convert.ToHexString(t.bytes));
    }

    private static (DecodeStatus, string?) Decode(PacketDecoder decoder, Message m, ReadOnlySequence<byte> data)
    {
        var status = m.IsBinary ? decoder.DecodeBinary(data, out var packet, out var error) : decoder.DecodeText(data, out packet, out error);
        switch (status)
        {
            case DecodeStatus.Error:
                Assert.Null(packet);
                Assert.False(string.IsNullOrWhiteSpace(error));
                Assert.False(decoder.IsAwaitingAttachments);
                return (status, null);
            case DecodeStatus.AwaitingAttachments:
                Assert.Null(packet);
                Assert.Null(error);
                Assert.True(decoder.IsAwaitingAttachments);
                return (status, null);
            case DecodeStatus.Complete:
                Assert.Null(error);
                Assert.False(decoder.IsAwaitingAttachments);
                return (status, CheckPacket(packet!));
            default:
                throw new Xunit.Sdk.XunitException($"undocumented status {status}");
        }
    }

    /// <summary>What the server relies on in a decoded packet; a description of it, to compare whole and split input.</summary>
    private static string CheckPacket(Packet packet)
    {
        Assert.True(Enum.IsDefined(packet.Type) && packet.Type != PacketType.ConnectError);
        Assert.StartsWith("/", packet.Namespace, StringComparison.Ordinal);
        Assert.DoesNotContain(',', packet.Namespace);
        Assert.InRange(packet.Id ?? 0, 0, Packet.MaxAckId);
        Assert.InRange(packet.Attachments.Count, 0, MaxAttachments);
        Assert.All(packet.Attachments, a => Assert.NotNull(a));
        Assert.Equal(packet.Type is PacketType.Event or PacketType.BinaryEvent, packet.EventName is not null);
        if (packet.Data is { } data)
        {
            ReadEveryString(data);
        }

        return $"{packet.Type} {packet.Namespace} {packet.Id} {packet.EventName} {packet.Data?.GetRawText()} {packet.Attachments.Count}";
    }

    // Event names, arguments, acks and auth are read as strings later: each one must read.
    private static void ReadEveryString(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                _ = element.GetString();
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    ReadEveryString(item);
                }

                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    _ = property.Name;
                    ReadEveryString(property.Value);
                }

                break;
        }
    }

    private sealed record HeaderRead(int Consumed, long PayloadLength, ushort Status, string Why);

    private static HeaderRead? Read(ReadOnlySequence<byte> bytes)
    {
        var reader = new SequenceReader<byte>(bytes);
        if (!WebSocketFrameHeader.TryRead(ref reader, out var header))
        {
            Assert.Equal(0, reader.Consumed); // nothing consumed: the caller waits for more bytes
            return null;
        }

        var status = header.Validate(out var why);
        return new HeaderRead((int)reader.Consumed, header.PayloadLength, status, why);
    }

    private static byte[] Header(byte first, long length, bool masked)
    {
        var bytes = new List<byte> { first };
        var mask = masked ? (byte)0x80 : (byte)0;
        if (length <= 125)
        {
            bytes.Add((byte)(mask | length));
        }
        else if (length <= ushort.MaxValue)
        {
            bytes.Add((byte)(mask | 126));
            bytes.AddRange(BitConverter.GetBytes((ushort)length).Reverse());
        }
        else
        {
            bytes.Add((byte)(mask | 127));
            bytes.AddRange(BitConverter.GetBytes(length).Reverse());
        }

        if (masked)
        {
            bytes.AddRange([0x37, 0xFA, 0x21, 0x3D]);
        }

        return [.. bytes];
    }

    private static ReadOnlySequence<byte> TwoSegments(byte[] bytes, int split) =>
        bytes.Length < 2 ? new ReadOnlySequence<byte>(bytes) : ProtocolTestData.Segmented(bytes, 1 + (split % (bytes.Length - 1)));

    private static ReadOnlySequence<byte> ThreeSegments(byte[] bytes, int cut1, int cut2)
    {
        if (bytes.Length < 3)
        {
            return TwoSegments(bytes, cut1);
        }

        var first = 1 + (cut1 % (bytes.Length - 2));
        var second = first + 1 + (cut2 % (bytes.Length - first - 1));
        return ProtocolTestData.Segmented(bytes, first, second);
    }
}
