using System.Buffers;
using System.Globalization;
using System.Text.Json;
using OrleansRooms.Silo.Compatibility;

namespace OrleansRooms.Silo.Tests.Compatibility;

/// <summary>
/// The MessagePack reader and writer against byte vectors produced by the real encoders (<c>notepack.io</c>, the
/// emitter's, and <c>@msgpack/msgpack</c>) in <c>tests/compat/vectors.mjs</c>.
/// </summary>
public sealed class MessagePackTests
{
    private static readonly Lazy<Task<IReadOnlyList<Vector>>> Vectors = new(LoadVectorsAsync);

    [Fact]
    public async Task Every_vector_decodes_to_the_value_the_encoder_was_given()
    {
        var vectors = await Vectors.Value;
        Assert.True(vectors.Count > 80, $"only {vectors.Count} vectors");
        foreach (var vector in vectors)
        {
            var reader = new MessagePackReader(vector.Bytes);
            AssertValue(vector.Expect, ref reader, vector.Name);
            Assert.True(reader.End, $"{vector.Name}: {vector.Bytes.Length - reader.Consumed} bytes left over");
        }
    }

    [Fact]
    public async Task Every_vector_is_skipped_whole()
    {
        foreach (var vector in await Vectors.Value)
        {
            var reader = new MessagePackReader(vector.Bytes);
            Assert.True(reader.TrySkip(), $"{vector.Name}: {reader.Error}");
            Assert.Equal(vector.Bytes.Length, reader.Consumed);
        }
    }

    [Fact]
    public async Task The_writer_produces_the_same_bytes_as_the_encoders_for_shortest_forms()
    {
        foreach (var vector in (await Vectors.Value).Where(v => v.Minimal))
        {
            var output = new ArrayBufferWriter<byte>();
            var reader = new MessagePackReader(vector.Bytes);
            Copy(ref reader, new MessagePackWriter(output));
            Assert.True(vector.Bytes.AsSpan().SequenceEqual(output.WrittenSpan),
                $"{vector.Name}: expected {Convert.ToHexString(vector.Bytes)[..Math.Min(80, vector.Bytes.Length * 2)]}, wrote {Convert.ToHexString(output.WrittenSpan)[..Math.Min(80, output.WrittenCount * 2)]}");
        }
    }

    [Fact]
    public async Task Every_truncated_vector_is_reported_as_truncated_without_consuming_anything()
    {
        foreach (var vector in (await Vectors.Value).Where(v => v.Bytes.Length < 2000))
        {
            for (int length = 0; length < vector.Bytes.Length; length++)
            {
                var reader = new MessagePackReader(vector.Bytes.AsSpan(0, length));
                Assert.False(reader.TrySkip(), $"{vector.Name} cut at {length}");
                Assert.Equal(MessagePackError.Truncated, reader.Error);
                Assert.Equal(0, reader.Consumed);
            }
        }
    }

    [Fact]
    public void The_unused_byte_0xc1_is_rejected()
    {
        var reader = new MessagePackReader([0xc1]);
        Assert.False(reader.TryPeekType(out _));
        Assert.Equal(MessagePackError.InvalidByte, reader.Error);
        Assert.False(reader.TrySkip());
        Assert.Equal(MessagePackError.InvalidByte, reader.Error);

        reader = new MessagePackReader([0x92, 0x01, 0xc1]);
        Assert.False(reader.TrySkip());
        Assert.Equal(0, reader.Consumed);
    }

    [Fact]
    public void Reading_the_wrong_type_consumes_nothing()
    {
        var reader = new MessagePackReader([0xa1, (byte)'x']);
        Assert.False(reader.TryReadInt64(out _));
        Assert.Equal(MessagePackError.WrongType, reader.Error);
        Assert.False(reader.TryReadBinary(out _));
        Assert.False(reader.TryReadArrayHeader(out _));
        Assert.Equal(0, reader.Consumed);
        Assert.True(reader.TryReadString(out var text));
        Assert.Equal("x", text);
        Assert.Equal(MessagePackError.None, reader.Error);
    }

    [Fact]
    public void A_uint64_above_int64_is_read_unsigned_and_overflows_int64()
    {
        byte[] max = [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        var reader = new MessagePackReader(max);
        Assert.False(reader.TryReadInt64(out _));
        Assert.Equal(MessagePackError.Overflow, reader.Error);
        Assert.True(reader.TryReadUInt64(out var value));
        Assert.Equal(ulong.MaxValue, value);

        reader = new MessagePackReader([0xff]);
        Assert.False(reader.TryReadUInt64(out _));
        Assert.Equal(MessagePackError.Overflow, reader.Error);
        Assert.True(reader.TryReadInt64(out var negative));
        Assert.Equal(-1, negative);
    }

    [Fact]
    public void A_forged_container_count_larger_than_the_input_is_truncated_input()
    {
        var reader = new MessagePackReader([0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]);
        Assert.False(reader.TryReadArrayHeader(out _));
        Assert.Equal(MessagePackError.Truncated, reader.Error);

        reader = new MessagePackReader([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]);
        Assert.False(reader.TryReadStringBytes(out _));
        Assert.Equal(MessagePackError.Truncated, reader.Error);

        reader = new MessagePackReader([0xc9, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00]);
        Assert.False(reader.TryReadExtension(out _, out _));
        Assert.Equal(MessagePackError.Truncated, reader.Error);
    }

    [Fact]
    public void Nesting_deeper_than_the_limit_is_rejected()
    {
        var bytes = Enumerable.Repeat((byte)0x91, MessagePackReader.MaxDepth + 1).Append((byte)0xc0).ToArray();
        var reader = new MessagePackReader(bytes);
        Assert.False(reader.TrySkip());
        Assert.Equal(MessagePackError.TooDeep, reader.Error);
        Assert.Equal(0, reader.Consumed);

        reader = new MessagePackReader(bytes.AsSpan(1));
        Assert.True(reader.TrySkip());
    }

    [Fact]
    public void A_string_that_is_not_utf8_is_not_read_as_text()
    {
        var reader = new MessagePackReader([0xa2, 0xc3, 0x28]);
        Assert.False(reader.TryReadString(out _));
        Assert.Equal(MessagePackError.WrongType, reader.Error);
        Assert.Equal(0, reader.Consumed);
        Assert.True(reader.TryReadStringBytes(out var raw));
        Assert.Equal(2, raw.Length);
    }

    [Fact]
    public void Timestamps_reject_impossible_nanoseconds()
    {
        Assert.False(MessagePackReader.TryDecodeTimestamp([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0], out _, out _));
        Assert.False(MessagePackReader.TryDecodeTimestamp([1, 2, 3], out _, out _));
        Assert.True(MessagePackReader.TryDecodeTimestamp([0, 0, 0, 1], out var seconds, out var nanoseconds));
        Assert.Equal((1L, 0u), (seconds, nanoseconds));
    }

    private static void AssertValue(JsonElement expect, ref MessagePackReader reader, string name)
    {
        string tag = expect.GetProperty("t").GetString()!;
        switch (tag)
        {
            case "nil":
                Assert.True(reader.TryReadNil(), $"{name}: nil ({reader.Error})");
                break;
            case "bool":
                Assert.True(reader.TryReadBoolean(out var flag), $"{name}: bool ({reader.Error})");
                Assert.Equal(expect.GetProperty("v").GetBoolean(), flag);
                break;
            case "int":
                Assert.True(reader.TryReadInteger(out var signed, out var unsigned, out var isUnsigned), $"{name}: int ({reader.Error})");
                Assert.Equal(expect.GetProperty("v").GetString(), isUnsigned ? unsigned.ToString(CultureInfo.InvariantCulture) : signed.ToString(CultureInfo.InvariantCulture));
                break;
            case "float":
                Assert.True(reader.TryReadDouble(out var number, out _), $"{name}: float ({reader.Error})");
                Assert.Equal(double.Parse(expect.GetProperty("v").GetString()!, CultureInfo.InvariantCulture), number);
                break;
            case "str":
                Assert.True(reader.TryReadString(out var text), $"{name}: str ({reader.Error})");
                Assert.Equal(expect.GetProperty("v").GetString(), text);
                break;
            case "bin":
                Assert.True(reader.TryReadBinary(out var bytes), $"{name}: bin ({reader.Error})");
                Assert.Equal(expect.GetProperty("v").GetString(), Convert.ToHexStringLower(bytes));
                break;
            case "ext":
                Assert.True(reader.TryReadExtension(out var type, out var data), $"{name}: ext ({reader.Error})");
                Assert.Equal(expect.GetProperty("type").GetInt32(), type);
                if (expect.TryGetProperty("ms", out var ms))
                {
                    Assert.True(MessagePackReader.TryDecodeTimestamp(data, out var seconds, out var nanoseconds), name);
                    Assert.Equal(ms.GetInt64(), (seconds * 1000) + (nanoseconds / 1_000_000));
                }
                else
                {
                    Assert.Equal(expect.GetProperty("v").GetString(), Convert.ToHexStringLower(data));
                }

                break;
            case "arr":
                Assert.True(reader.TryReadArrayHeader(out var count), $"{name}: array ({reader.Error})");
                Assert.Equal(expect.GetProperty("v").GetArrayLength(), count);
                foreach (var item in expect.GetProperty("v").EnumerateArray())
                {
                    AssertValue(item, ref reader, name);
                }

                break;
            case "map":
                Assert.True(reader.TryReadMapHeader(out var pairs), $"{name}: map ({reader.Error})");
                Assert.Equal(expect.GetProperty("v").GetArrayLength(), pairs);
                foreach (var pair in expect.GetProperty("v").EnumerateArray())
                {
                    AssertValue(pair[0], ref reader, name);
                    AssertValue(pair[1], ref reader, name);
                }

                break;
            default:
                Assert.Fail($"{name}: unknown tag {tag}");
                break;
        }
    }

    /// <summary>Reads one value and writes it back, keeping float 32 as float 32.</summary>
    private static void Copy(ref MessagePackReader reader, MessagePackWriter writer)
    {
        Assert.True(reader.TryPeekType(out var type));
        switch (type)
        {
            case MessagePackType.Nil:
                reader.TryReadNil();
                writer.WriteNil();
                break;
            case MessagePackType.Boolean:
                reader.TryReadBoolean(out var flag);
                writer.WriteBoolean(flag);
                break;
            case MessagePackType.Integer:
                reader.TryReadInteger(out var signed, out var unsigned, out var isUnsigned);
                if (isUnsigned)
                {
                    writer.WriteUInt64(unsigned);
                }
                else
                {
                    writer.WriteInt64(signed);
                }

                break;
            case MessagePackType.Float:
                reader.TryReadDouble(out var number, out var isSingle);
                if (isSingle)
                {
                    writer.WriteSingle((float)number);
                }
                else
                {
                    writer.WriteDouble(number);
                }

                break;
            case MessagePackType.String:
                reader.TryReadString(out var text);
                writer.WriteString(text);
                break;
            case MessagePackType.Binary:
                reader.TryReadBinary(out var bytes);
                writer.WriteBinary(bytes);
                break;
            case MessagePackType.Extension:
                reader.TryReadExtension(out var extType, out var data);
                writer.WriteExtension(extType, data);
                break;
            case MessagePackType.Array:
                reader.TryReadArrayHeader(out var count);
                writer.WriteArrayHeader(count);
                for (int i = 0; i < count; i++)
                {
                    Copy(ref reader, writer);
                }

                break;
            case MessagePackType.Map:
                reader.TryReadMapHeader(out var pairs);
                writer.WriteMapHeader(pairs);
                for (int i = 0; i < 2 * pairs; i++)
                {
                    Copy(ref reader, writer);
                }

                break;
        }
    }

    private static async Task<IReadOnlyList<Vector>> LoadVectorsAsync()
    {
        var output = await NodeCompat.RunFileAsync("vectors.mjs");
        var vectors = new List<Vector>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            vectors.Add(new Vector(
                root.GetProperty("name").GetString()!,
                Convert.FromHexString(root.GetProperty("hex").GetString()!),
                root.GetProperty("expect").Clone(),
                root.GetProperty("minimal").GetBoolean()));
        }

        return vectors;
    }

    private sealed record Vector(string Name, byte[] Bytes, JsonElement Expect, bool Minimal);
}
