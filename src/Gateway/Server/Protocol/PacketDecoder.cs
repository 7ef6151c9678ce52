using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace OrleansRooms.Protocol;

/// <summary>
/// Decodes what one client sends: Socket.IO text packets (the Engine.IO <c>4</c> already removed) and the binary
/// messages that follow a BINARY_EVENT or BINARY_ACK. Strict: anything the protocol does not allow a client to send
/// is an <see cref="DecodeStatus.Error"/> with a message, never an exception; after an error the decoder starts over.
/// Not thread-safe: one per connection, fed in arrival order.
/// </summary>
internal sealed class PacketDecoder
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly int _maxAttachments;

    // The binary packet whose attachments are still arriving; null when none is awaited.
    private Packet? _pending;
    private byte[][] _pendingAttachments = [];
    private int _receivedAttachments;

    // Clients send to a few namespaces over and over: reuse the last string instead of allocating one per packet.
    private byte[] _lastNamespaceUtf8 = [];
    private string _lastNamespace = "/";

    private Decoder? _multiSegmentValidator;

    public PacketDecoder(int maxAttachments)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxAttachments);
        _maxAttachments = maxAttachments;
    }

    /// <summary>Whether a BINARY_EVENT or BINARY_ACK is waiting for attachments.</summary>
    public bool IsAwaitingAttachments => _pending is not null;

    /// <summary>
    /// Decodes a text packet, <c>&lt;type&gt;[&lt;attachments&gt;-][&lt;nsp&gt;,][&lt;ack id&gt;][JSON]</c>.
    /// <see cref="DecodeStatus.Complete"/> gives the packet; <see cref="DecodeStatus.AwaitingAttachments"/> means it
    /// completes in <see cref="DecodeBinary"/>.
    /// </summary>
    public DecodeStatus DecodeText(in ReadOnlySequence<byte> utf8, out Packet? packet, out string? error)
    {
        packet = null;
        if (_pending is not null)
        {
            return Fail($"Received a text packet while {_pendingAttachments.Length - _receivedAttachments} binary attachment(s) were still awaited.", out error);
        }

        var reader = new SequenceReader<byte>(utf8);
        if (!reader.TryRead(out var typeDigit))
        {
            return Fail("Empty packet.", out error);
        }

        // Utf8JsonReader checks strings only when they are read; checking the whole text once keeps every later read safe.
        if (!IsValidUtf8(utf8))
        {
            return Fail("The packet is not valid UTF-8.", out error);
        }

        if (typeDigit is < (byte)'0' or > (byte)'6')
        {
            return Fail($"Unknown packet type '{Describe(typeDigit)}'.", out error);
        }

        var type = (PacketType)(typeDigit - '0');
        if (type == PacketType.ConnectError)
        {
            return Fail("A client may not send CONNECT_ERROR.", out error);
        }

        var isBinary = type is PacketType.BinaryEvent or PacketType.BinaryAck;
        var attachmentCount = 0;
        if (isBinary)
        {
            switch (TryReadNumber(ref reader, int.MaxValue, out var count))
            {
                case NumberStatus.Missing:
                    return Fail("Missing attachment count after a binary packet type.", out error);
                case NumberStatus.Overflow:
                    return Fail("Attachment count out of range.", out error);
            }

            attachmentCount = (int)count;
            if (!reader.IsNext((byte)'-', advancePast: true))
            {
                return Fail("Missing '-' after the attachment count.", out error);
            }

            if (attachmentCount > _maxAttachments)
            {
                return Fail($"Too many attachments: {attachmentCount}, at most {_maxAttachments}.", out error);
            }
        }

        var nsp = "/";
        if (reader.IsNext((byte)'/'))
        {
            ReadOnlySpan<byte> nspUtf8;
            if (!reader.TryReadTo(out nspUtf8, (byte)',', advancePastDelimiter: true))
            {
                // The compliance test suite sends "40/custom" and "41/custom": a namespace may end the packet without
                // its ','. Any other packet type has more to follow, so there the ',' is required.
                if (type is not (PacketType.Connect or PacketType.Disconnect))
                {
                    return Fail("Missing ',' after the namespace.", out error);
                }

                nspUtf8 = reader.UnreadSequence.IsSingleSegment ? reader.UnreadSpan : reader.UnreadSequence.ToArray();
                reader.AdvanceToEnd();
            }

            nsp = GetNamespace(nspUtf8);
        }

        long? id = null;
        if (reader.TryPeek(out var next) && IsDigit(next))
        {
            if (TryReadNumber(ref reader, Packet.MaxAckId, out var ackId) == NumberStatus.Overflow)
            {
                return Fail($"Ack id out of range: at most {Packet.MaxAckId} (Number.MAX_SAFE_INTEGER).", out error);
            }

            id = ackId;
        }

        JsonElement? data = null;
        if (!reader.End)
        {
            reader.TryPeek(out var first);
            if (first is not ((byte)'[' or (byte)'{'))
            {
                // A namespace not starting with '/', an ack id with a non-digit, a payload that is not an array or object.
                return Fail($"Unexpected '{Describe(first)}' at offset {reader.Consumed}: expected {ExpectedAt(nsp, id)}.", out error);
            }

            if (!TryParseJson(reader.UnreadSequence, out var parsed, out var jsonError))
            {
                return Fail(jsonError, out error);
            }

            data = parsed;
        }

        if (!TryValidate(type, id, data, out var eventName, out var validationError))
        {
            return Fail(validationError, out error);
        }

        if (isBinary && data is { } payload && !TryValidatePlaceholders(payload, attachmentCount, out var placeholderError))
        {
            return Fail(placeholderError, out error);
        }

        if (isBinary && attachmentCount > 0)
        {
            _pendingAttachments = new byte[attachmentCount][];
            _receivedAttachments = 0;
            _pending = new Packet
            {
                Type = type,
                Namespace = nsp,
                Id = id,
                Data = data,
                EventName = eventName,
                Attachments = _pendingAttachments,
            };
            error = null;
            return DecodeStatus.AwaitingAttachments;
        }

        packet = new Packet { Type = type, Namespace = nsp, Id = id, Data = data, EventName = eventName };
        error = null;
        return DecodeStatus.Complete;
    }

    /// <summary>Takes the next attachment of the awaited binary packet; completes it with the last one.</summary>
    public DecodeStatus DecodeBinary(in ReadOnlySequence<byte> data, out Packet? packet, out string? error)
    {
        packet = null;
        if (_pending is null)
        {
            return Fail("Received a binary message while no attachment was awaited.", out error);
        }

        _pendingAttachments[_receivedAttachments++] = data.ToArray();
        error = null;
        if (_receivedAttachments < _pendingAttachments.Length)
        {
            return DecodeStatus.AwaitingAttachments;
        }

        packet = _pending;
        Reset();
        return DecodeStatus.Complete;
    }

    private DecodeStatus Fail(string message, out string? error)
    {
        Reset();
        error = message;
        return DecodeStatus.Error;
    }

    private void Reset()
    {
        _pending = null;
        _pendingAttachments = [];
        _receivedAttachments = 0;
    }

    private string GetNamespace(ReadOnlySpan<byte> utf8)
    {
        if (!utf8.SequenceEqual(_lastNamespaceUtf8))
        {
            _lastNamespace = Encoding.UTF8.GetString(utf8);
            _lastNamespaceUtf8 = utf8.ToArray();
        }

        return _lastNamespace;
    }

    private bool IsValidUtf8(in ReadOnlySequence<byte> utf8)
    {
        if (utf8.IsSingleSegment)
        {
            return Utf8.IsValid(utf8.FirstSpan);
        }

        // A character may straddle two segments: a stateful decoder carries it over.
        var decoder = _multiSegmentValidator ??= StrictUtf8.GetDecoder();
        decoder.Reset();
        Span<char> scratch = stackalloc char[256];
        var remaining = utf8.Length;
        try
        {
            foreach (var segment in utf8)
            {
                remaining -= segment.Length;
                var isLast = remaining == 0;
                var bytes = segment.Span;
                while (true)
                {
                    decoder.Convert(bytes, scratch, isLast, out var bytesUsed, out _, out var completed);
                    bytes = bytes[bytesUsed..];
                    if (bytes.IsEmpty && (completed || !isLast))
                    {
                        break;
                    }
                }
            }

            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    private static bool TryParseJson(in ReadOnlySequence<byte> json, out JsonElement element, out string error)
    {
        try
        {
            var reader = json.IsSingleSegment
                ? new Utf8JsonReader(json.FirstSpan, ReaderOptions)
                : new Utf8JsonReader(json, ReaderOptions);

            // ParseValue copies the value, so the element outlives the connection's receive buffer.
            element = JsonElement.ParseValue(ref reader);

            // Anything after the value throws here (the reader allows a single top-level value).
            if (reader.Read())
            {
                error = "Unexpected data after the JSON payload.";
                return false;
            }

            if (HasLoneSurrogateEscape(json))
            {
                error = "Malformed JSON payload: a string holds a lone UTF-16 surrogate (a \\uD800-\\uDFFF escape not in a pair), which is no text.";
                return false;
            }

            error = string.Empty;
            return true;
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
        {
            element = default;
            error = $"Malformed JSON payload: {ex.Message}";
            return false;
        }
    }

    /// <summary>
    /// Whether a <c>\uXXXX</c> escape spells half of a surrogate pair without its other half. JavaScript keeps such
    /// an ill-formed string; .NET cannot read it as one (System.Text.Json throws), so it is refused here, once, and
    /// every string of an accepted payload reads safely later: event names, arguments, acks, auth. The text is valid
    /// JSON already, where every '\' starts an escape inside a string, so a scan of the raw bytes finds them all.
    /// </summary>
    private static bool HasLoneSurrogateEscape(in ReadOnlySequence<byte> json)
    {
        var reader = new SequenceReader<byte>(json);
        while (reader.TryAdvanceTo((byte)'\\', advancePastDelimiter: true))
        {
            // The escaped character is consumed with its '\', so the "u" of "\\u" does not start an escape.
            if (!reader.TryRead(out var kind) || kind != (byte)'u' || !TryReadHex4(ref reader, out var unit) || unit is < 0xD800 or > 0xDFFF)
            {
                continue;
            }

            if (unit >= 0xDC00
                || !reader.IsNext("\\u"u8, advancePast: true)
                || !TryReadHex4(ref reader, out var low)
                || low is < 0xDC00 or > 0xDFFF)
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryReadHex4(ref SequenceReader<byte> reader, out int value)
    {
        value = 0;
        for (var i = 0; i < 4; i++)
        {
            if (!reader.TryRead(out var b))
            {
                return false;
            }

            var digit = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
                _ => -1,
            };
            if (digit < 0)
            {
                return false;
            }

            value = (value << 4) | digit;
        }

        return true;
    }

    private static bool TryValidate(PacketType type, long? id, JsonElement? data, out string? eventName, out string error)
    {
        eventName = null;
        error = string.Empty;
        switch (type)
        {
            case PacketType.Connect:
                if (id is not null)
                {
                    error = "A CONNECT packet has no ack id.";
                    return false;
                }

                if (data is { ValueKind: not JsonValueKind.Object })
                {
                    error = "The payload of a CONNECT packet must be an object.";
                    return false;
                }

                return true;

            case PacketType.Disconnect:
                if (id is not null || data is not null)
                {
                    error = "A DISCONNECT packet has no ack id and no payload.";
                    return false;
                }

                return true;

            case PacketType.Event or PacketType.BinaryEvent:
                return TryGetEventName(data, out eventName, out error);

            default: // Ack, BinaryAck
                if (id is null)
                {
                    error = "An ACK packet needs the ack id it answers.";
                    return false;
                }

                if (data is not { ValueKind: JsonValueKind.Array })
                {
                    error = "The payload of an ACK packet must be an array.";
                    return false;
                }

                return true;
        }
    }

    private static bool TryGetEventName(JsonElement? data, out string? eventName, out string error)
    {
        eventName = null;
        if (data is not { ValueKind: JsonValueKind.Array } array || array.GetArrayLength() == 0)
        {
            error = "The payload of an EVENT packet must be a non-empty array.";
            return false;
        }

        var first = array[0];
        switch (first.ValueKind)
        {
            case JsonValueKind.String:
                eventName = first.GetString()!;
                if (EventNames.IsReserved(eventName))
                {
                    error = $"\"{eventName}\" is a reserved event name.";
                    eventName = null;
                    return false;
                }

                break;

            // The reference parser accepts numbers; a JS listener gets them under their string form.
            case JsonValueKind.Number:
                eventName = first.TryGetInt64(out var integer)
                    ? integer.ToString(CultureInfo.InvariantCulture)
                    : first.GetRawText();
                break;

            default:
                error = "The event name (first element of an EVENT payload) must be a string or a number.";
                return false;
        }

        error = string.Empty;
        return true;
    }

    /// <summary>Checks every <c>{"_placeholder":true,...}</c> has an integer <c>num</c> naming an announced attachment.</summary>
    private static bool TryValidatePlaceholders(JsonElement element, int attachmentCount, out string error)
    {
        error = string.Empty;
        switch (element.ValueKind)
        {
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (!TryValidatePlaceholders(item, attachmentCount, out error))
                    {
                        return false;
                    }
                }

                return true;

            case JsonValueKind.Object:
                if (element.TryGetProperty("_placeholder"u8, out var marker) && marker.ValueKind == JsonValueKind.True)
                {
                    if (!element.TryGetProperty("num"u8, out var num)
                        || num.ValueKind != JsonValueKind.Number
                        || !num.TryGetInt32(out var index)
                        || index < 0
                        || index >= attachmentCount)
                    {
                        error = $"Invalid binary placeholder: num must be an integer from 0 to {attachmentCount - 1}.";
                        return false;
                    }

                    return true;
                }

                foreach (var property in element.EnumerateObject())
                {
                    if (!TryValidatePlaceholders(property.Value, attachmentCount, out error))
                    {
                        return false;
                    }
                }

                return true;

            default:
                return true;
        }
    }

    private enum NumberStatus
    {
        Ok,
        Missing,
        Overflow,
    }

    /// <summary>Reads decimal digits; leading zeros are allowed, as JavaScript's <c>Number()</c> allows them.</summary>
    private static NumberStatus TryReadNumber(ref SequenceReader<byte> reader, long max, out long value)
    {
        value = 0;
        var digits = 0;
        var overflow = false;
        while (reader.TryPeek(out var b) && IsDigit(b))
        {
            reader.Advance(1);
            digits++;
            if (!overflow)
            {
                // max is far below long.MaxValue / 10, so this cannot wrap.
                value = (value * 10) + (b - '0');
                overflow = value > max;
            }
        }

        return digits == 0 ? NumberStatus.Missing : overflow ? NumberStatus.Overflow : NumberStatus.Ok;
    }

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    private static string ExpectedAt(string nsp, long? id) => (nsp, id) switch
    {
        (_, not null) => "the JSON payload (an array or an object)",
        ("/", null) => "a namespace starting with '/', an ack id or the JSON payload",
        _ => "an ack id or the JSON payload",
    };

    private static string Describe(byte b) =>
        b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"0x{b:X2}";
}
