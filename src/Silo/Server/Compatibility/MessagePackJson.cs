using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Unicode;
using MessagePack;

namespace OrleansRooms.Silo.Compatibility;

/// <summary>
/// Writes a MessagePack value (as <c>notepack.io</c>, the official emitter's encoder, writes JavaScript values) as the
/// JSON a Socket.IO server would send for it: <c>JSON.stringify</c>'s rules (dates as ISO strings, non-finite numbers
/// as <c>null</c>), binary values as placeholders <c>{"_placeholder":true,"num":N}</c> numbered depth first as
/// <c>socket.io-parser</c> numbers them, their bytes collected as attachments. Decoding is the MessagePack package's;
/// what is here is the mapping to JSON.
/// </summary>
internal static class MessagePackJson
{
    /// <summary>How deep arrays and maps may nest in one value.</summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// Reads one value and writes it; false with a reason when it cannot be written as JSON (a string that is not UTF-8,
    /// a map key that is neither a string nor an integer, nesting deeper than <see cref="MaxDepth"/>). Malformed or
    /// truncated input throws the package's <c>MessagePack.MessagePackSerializationException</c> or <see cref="EndOfStreamException"/>.
    /// </summary>
    public static bool TryWrite(ref MessagePackReader reader, Utf8JsonWriter writer, List<ReadOnlyMemory<byte>> attachments, out string? error) =>
        TryWrite(ref reader, writer, attachments, 0, out error);

    private static bool TryWrite(ref MessagePackReader reader, Utf8JsonWriter writer, List<ReadOnlyMemory<byte>> attachments, int depth, out string? error)
    {
        error = null;
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Nil:
                reader.ReadNil();
                writer.WriteNullValue();
                return true;
            case MessagePackType.Boolean:
                writer.WriteBooleanValue(reader.ReadBoolean());
                return true;
            case MessagePackType.Integer:
                if (reader.NextCode == MessagePackCode.UInt64)
                {
                    writer.WriteNumberValue(reader.ReadUInt64());
                }
                else
                {
                    writer.WriteNumberValue(reader.ReadInt64());
                }

                return true;
            case MessagePackType.Float:
                var number = reader.ReadDouble();
                if (double.IsFinite(number))
                {
                    writer.WriteNumberValue(number);
                }
                else
                {
                    writer.WriteNullValue();
                }

                return true;
            case MessagePackType.String:
                if (!TryReadUtf8(ref reader, out var text))
                {
                    error = "a string is not valid UTF-8";
                    return false;
                }

                writer.WriteStringValue(text.Span);
                return true;
            case MessagePackType.Binary:
                var bytes = reader.ReadBytes()!.Value;
                writer.WriteStartObject();
                writer.WriteBoolean("_placeholder"u8, true);
                writer.WriteNumber("num"u8, attachments.Count);
                writer.WriteEndObject();
                attachments.Add(bytes.ToArray());
                return true;
            case MessagePackType.Extension:
                WriteExtension(ref reader, writer);
                return true;
            case MessagePackType.Array:
                if (depth == MaxDepth)
                {
                    error = $"values are nested deeper than {MaxDepth} levels";
                    return false;
                }

                var count = reader.ReadArrayHeader();
                writer.WriteStartArray();
                for (var i = 0; i < count; i++)
                {
                    if (!TryWrite(ref reader, writer, attachments, depth + 1, out error))
                    {
                        return false;
                    }
                }

                writer.WriteEndArray();
                return true;
            case MessagePackType.Map:
                if (depth == MaxDepth)
                {
                    error = $"values are nested deeper than {MaxDepth} levels";
                    return false;
                }

                var pairs = reader.ReadMapHeader();
                writer.WriteStartObject();
                for (var i = 0; i < pairs; i++)
                {
                    if (!TryWriteKey(ref reader, writer, out error) || !TryWrite(ref reader, writer, attachments, depth + 1, out error))
                    {
                        return false;
                    }
                }

                writer.WriteEndObject();
                return true;
            default:
                error = $"the MessagePack byte 0x{reader.NextCode:x2} is not a value";
                return false;
        }
    }

    /// <summary>A string, as UTF-8; false when it is not valid UTF-8 (JavaScript strings with lone surrogates).</summary>
    public static bool TryReadUtf8(ref MessagePackReader reader, out ReadOnlyMemory<byte> utf8)
    {
        var sequence = reader.ReadStringSequence()!.Value;
        // Copied only when the string spans buffer segments; the payloads here are one segment.
        utf8 = sequence.IsSingleSegment ? sequence.First : sequence.ToArray();
        return Utf8.IsValid(utf8.Span);
    }

    /// <summary>A map key: a string, or an integer written as its decimal text (what a JavaScript object key is).</summary>
    private static bool TryWriteKey(ref MessagePackReader reader, Utf8JsonWriter writer, out string? error)
    {
        error = null;
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.String:
                if (!TryReadUtf8(ref reader, out var name))
                {
                    error = "a map key is not valid UTF-8";
                    return false;
                }

                writer.WritePropertyName(name.Span);
                return true;
            case MessagePackType.Integer:
                writer.WritePropertyName(reader.NextCode == MessagePackCode.UInt64
                    ? reader.ReadUInt64().ToString(CultureInfo.InvariantCulture)
                    : reader.ReadInt64().ToString(CultureInfo.InvariantCulture));
                return true;
            default:
                error = "a map key is neither a string nor an integer";
                return false;
        }
    }

    /// <summary>The timestamp extension (-1, what notepack writes for a Date) as <c>Date.toJSON</c> writes it; other extensions as null.</summary>
    private static void WriteExtension(ref MessagePackReader reader, Utf8JsonWriter writer)
    {
        var header = reader.ReadExtensionFormatHeader();
        string? iso = null;
        if (header.TypeCode == ReservedMessagePackExtensionTypeCode.DateTime)
        {
            var timestamp = reader;
            try
            {
                // Date.toJSON: milliseconds, cut towards zero, always UTC.
                iso = timestamp.ReadDateTime(header).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            }
            catch (Exception ex) when (ex is ArgumentOutOfRangeException or MessagePackSerializationException)
            {
                // Outside DateTime's years 1-9999 (or a malformed timestamp): written as null, as an invalid Date is.
            }
        }

        reader.ReadRaw(header.Length);
        if (iso is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(iso);
        }
    }
}
