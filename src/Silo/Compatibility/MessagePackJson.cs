using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace OrleansRooms.Silo.Compatibility;

/// <summary>
/// Converts MessagePack values (as <c>notepack.io</c> writes JavaScript values) to the JSON <c>JSON.stringify</c>
/// would have written for the same values, with binary values replaced by Socket.IO placeholders
/// (<c>{"_placeholder":true,"num":N}</c>, numbered depth first like <c>socket.io-parser</c>) and collected as attachments.
/// </summary>
internal static class MessagePackJson
{
    /// <summary>The JavaScript <c>Date</c> range (±100 000 000 days from the epoch), in milliseconds.</summary>
    private const double MaxDateMilliseconds = 8.64e15;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // JSON.stringify writes non-ASCII text as it is.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    public static JsonWriterOptions Options => WriterOptions;

    /// <summary>
    /// Reads one value and writes it as JSON; false with a reason when the input is malformed or truncated, a string
    /// is not UTF-8, a map key is not a string or an integer, or nesting goes deeper than
    /// <see cref="MessagePackReader.MaxDepth"/>. Floats that are not finite become <c>null</c> (as in JSON.stringify),
    /// timestamps (extension -1) ISO-8601 strings (Date.toJSON), other extension values <c>null</c>.
    /// </summary>
    public static bool TryConvert(ref MessagePackReader reader, Utf8JsonWriter writer, List<ReadOnlyMemory<byte>> attachments, out string? error) =>
        TryConvert(ref reader, writer, attachments, 0, out error);

    private static bool TryConvert(ref MessagePackReader reader, Utf8JsonWriter writer, List<ReadOnlyMemory<byte>> attachments, int depth, out string? error)
    {
        error = null;
        if (!reader.TryPeekType(out var type))
        {
            return Fail(ref reader, out error);
        }

        switch (type)
        {
            case MessagePackType.Nil:
                reader.TryReadNil();
                writer.WriteNullValue();
                return true;
            case MessagePackType.Boolean:
                reader.TryReadBoolean(out bool flag);
                writer.WriteBooleanValue(flag);
                return true;
            case MessagePackType.Integer:
                if (!reader.TryReadInteger(out long signed, out ulong unsigned, out bool isUnsigned))
                {
                    return Fail(ref reader, out error);
                }

                if (isUnsigned)
                {
                    writer.WriteNumberValue(unsigned);
                }
                else
                {
                    writer.WriteNumberValue(signed);
                }

                return true;
            case MessagePackType.Float:
                if (!reader.TryReadDouble(out double number, out _))
                {
                    return Fail(ref reader, out error);
                }

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
                if (!reader.TryReadStringBytes(out var utf8))
                {
                    return Fail(ref reader, out error);
                }

                if (!System.Text.Unicode.Utf8.IsValid(utf8))
                {
                    error = "a string is not valid UTF-8";
                    return false;
                }

                writer.WriteStringValue(utf8);
                return true;
            case MessagePackType.Binary:
                if (!reader.TryReadBinary(out var bytes))
                {
                    return Fail(ref reader, out error);
                }

                writer.WriteStartObject();
                writer.WriteBoolean("_placeholder"u8, true);
                writer.WriteNumber("num"u8, attachments.Count);
                writer.WriteEndObject();
                attachments.Add(bytes.ToArray());
                return true;
            case MessagePackType.Extension:
                if (!reader.TryReadExtension(out sbyte extensionType, out var data))
                {
                    return Fail(ref reader, out error);
                }

                if (extensionType == -1 && MessagePackReader.TryDecodeTimestamp(data, out long seconds, out uint nanoseconds)
                    && TryFormatDate(seconds, nanoseconds, out string? iso))
                {
                    writer.WriteStringValue(iso);
                }
                else
                {
                    writer.WriteNullValue();
                }

                return true;
            case MessagePackType.Array:
                if (depth >= MessagePackReader.MaxDepth)
                {
                    error = "values are nested too deeply";
                    return false;
                }

                if (!reader.TryReadArrayHeader(out int count))
                {
                    return Fail(ref reader, out error);
                }

                writer.WriteStartArray();
                for (int i = 0; i < count; i++)
                {
                    if (!TryConvert(ref reader, writer, attachments, depth + 1, out error))
                    {
                        return false;
                    }
                }

                writer.WriteEndArray();
                return true;
            default:
                if (depth >= MessagePackReader.MaxDepth)
                {
                    error = "values are nested too deeply";
                    return false;
                }

                if (!reader.TryReadMapHeader(out int pairs))
                {
                    return Fail(ref reader, out error);
                }

                writer.WriteStartObject();
                for (int i = 0; i < pairs; i++)
                {
                    if (!TryWriteKey(ref reader, writer, out error) || !TryConvert(ref reader, writer, attachments, depth + 1, out error))
                    {
                        return false;
                    }
                }

                writer.WriteEndObject();
                return true;
        }
    }

    /// <summary>A map key: a string, or an integer written as its decimal text (what a JavaScript object key would be).</summary>
    private static bool TryWriteKey(ref MessagePackReader reader, Utf8JsonWriter writer, out string? error)
    {
        error = null;
        if (reader.TryReadStringBytes(out var utf8))
        {
            if (!System.Text.Unicode.Utf8.IsValid(utf8))
            {
                error = "a map key is not valid UTF-8";
                return false;
            }

            writer.WritePropertyName(utf8);
            return true;
        }

        if (reader.Error == MessagePackError.WrongType && reader.TryReadInteger(out long signed, out ulong unsigned, out bool isUnsigned))
        {
            writer.WritePropertyName(isUnsigned ? unsigned.ToString(CultureInfo.InvariantCulture) : signed.ToString(CultureInfo.InvariantCulture));
            return true;
        }

        if (reader.Error == MessagePackError.WrongType)
        {
            error = "a map key is neither a string nor an integer";
            return false;
        }

        return Fail(ref reader, out error);
    }

    /// <summary>Date.prototype.toJSON: <c>yyyy-MM-ddTHH:mm:ss.fffZ</c>; false outside years 1..9999 (written as null).</summary>
    internal static bool TryFormatDate(long seconds, uint nanoseconds, out string? iso)
    {
        iso = null;
        // new Date(s * 1e3 + ns / 1e6): the fraction of a millisecond is cut towards zero.
        double milliseconds = Math.Truncate((seconds * 1000d) + (nanoseconds / 1e6));
        if (Math.Abs(milliseconds) > MaxDateMilliseconds)
        {
            return false;
        }

        try
        {
            iso = DateTimeOffset.FromUnixTimeMilliseconds((long)milliseconds).UtcDateTime
                .ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private static bool Fail(ref MessagePackReader reader, out string? error)
    {
        error = reader.Error switch
        {
            MessagePackError.Truncated => "the MessagePack input is truncated",
            MessagePackError.InvalidByte => "the MessagePack input holds the unused byte 0xc1",
            MessagePackError.TooDeep => "values are nested too deeply",
            _ => $"malformed MessagePack ({reader.Error})",
        };
        return false;
    }
}
