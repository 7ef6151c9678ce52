using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using OrleansRooms.Engine;

namespace OrleansRooms.Protocol;

/// <summary>
/// Encodes the packets a server sends. The JSON is written once into a per-thread buffer, then copied into one
/// right-sized array laid out for <see cref="EnginePacket"/> (frame header room, <c>4</c>, Socket.IO header, JSON),
/// so a broadcast costs one serialization and one copy whatever the number of recipients.
/// </summary>
internal static class PacketEncoder
{
    private static readonly JsonEncodedText SidName = JsonEncodedText.Encode("sid");
    private static readonly JsonEncodedText MessageName = JsonEncodedText.Encode("message");
    private static readonly JsonEncodedText DataName = JsonEncodedText.Encode("data");

    /// <summary>
    /// EVENT <c>[eventName, ...args]</c>, or BINARY_EVENT when an argument holds binary data at any depth.
    /// Throws <see cref="ArgumentException"/> for a reserved event name (a client would reject the packet) or an
    /// invalid namespace, and what <see cref="JsonSerializer"/> throws for an argument it cannot serialize.
    /// </summary>
    public static EncodedPacket Event(string nsp, string eventName, ReadOnlySpan<object?> args, int? ackId, JsonSerializerOptions options)
    {
        ValidateNamespace(nsp);
        ArgumentNullException.ThrowIfNull(eventName);
        if (EventNames.IsReserved(eventName))
        {
            throw new ArgumentException($"\"{eventName}\" is a reserved event name.", nameof(eventName));
        }

        if (ackId is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ackId), ackId, "An ack id is not negative.");
        }

        var json = ProtocolJsonOptions.For(options);
        using var session = EncoderSession.Rent(json.Encoder, collectAttachments: true);
        var writer = session.Writer;
        writer.WriteStartArray();
        writer.WriteStringValue(eventName);
        WriteArguments(writer, args, json);
        writer.WriteEndArray();
        return session.Build(PacketType.Event, nsp, ackId);
    }

    /// <summary>
    /// ACK <c>[...args]</c> answering <paramref name="ackId"/> (a client's id, up to <see cref="Packet.MaxAckId"/>),
    /// or BINARY_ACK when an argument holds binary data.
    /// </summary>
    public static EncodedPacket Ack(string nsp, long ackId, ReadOnlySpan<object?> args, JsonSerializerOptions options)
    {
        ValidateNamespace(nsp);
        ArgumentOutOfRangeException.ThrowIfNegative(ackId);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ackId, Packet.MaxAckId);
        var json = ProtocolJsonOptions.For(options);
        using var session = EncoderSession.Rent(json.Encoder, collectAttachments: true);
        var writer = session.Writer;
        writer.WriteStartArray();
        WriteArguments(writer, args, json);
        writer.WriteEndArray();
        return session.Build(PacketType.Ack, nsp, ackId);
    }

    /// <summary>CONNECT accepted: <c>0{"sid":"..."}</c>, or <c>0/admin,{"sid":"..."}</c>.</summary>
    public static EncodedPacket Connect(string nsp, string sid, string? pid = null)
    {
        ValidateNamespace(nsp);
        ArgumentNullException.ThrowIfNull(sid);
        using var session = EncoderSession.Rent(JavaScriptEncoder.UnsafeRelaxedJsonEscaping, collectAttachments: false);
        var writer = session.Writer;
        writer.WriteStartObject();
        writer.WriteString(SidName, sid);
        if (pid is not null)
        {
            // The private session id a client recovers with (connection state recovery).
            writer.WriteString("pid"u8, pid);
        }

        writer.WriteEndObject();
        return session.Build(PacketType.Connect, nsp, ackId: null);
    }

    /// <summary>
    /// CONNECT_ERROR: <c>4{"message":"...","data":...}</c>, <c>data</c> left out when null. A CONNECT_ERROR carries
    /// no attachments, so binary values in <paramref name="data"/> are written as base64 strings.
    /// </summary>
    public static EncodedPacket ConnectError(string nsp, string message, object? data, JsonSerializerOptions options)
    {
        ValidateNamespace(nsp);
        ArgumentNullException.ThrowIfNull(message);
        var json = ProtocolJsonOptions.For(options);
        using var session = EncoderSession.Rent(json.Encoder, collectAttachments: false);
        var writer = session.Writer;
        writer.WriteStartObject();
        writer.WriteString(MessageName, message);
        if (data is not null)
        {
            writer.WritePropertyName(DataName);
            WriteArgument(writer, data, json);
        }

        writer.WriteEndObject();
        return session.Build(PacketType.ConnectError, nsp, ackId: null);
    }

    /// <summary>CONNECT accepted in Socket.IO protocol v4 (<c>socket.io-client</c> 2.x): <c>0</c>, or <c>0/admin,</c>, without a sid.</summary>
    public static EncodedPacket LegacyConnect(string nsp)
    {
        ValidateNamespace(nsp);
        var text = BuildText(PacketType.Connect, attachmentCount: 0, nsp, ackId: null, json: [], out var length);
        return new EncodedPacket([EnginePacket.FromReservedBuffer(text, length, isBinary: false)]);
    }

    /// <summary>
    /// ERROR in Socket.IO protocol v4: <c>4/admin,"Not authorized"</c>: the refusal's data when it has some (as the
    /// reference server sends it), else its message as a JSON string.
    /// </summary>
    public static EncodedPacket LegacyError(string nsp, string message, object? data, JsonSerializerOptions options)
    {
        ValidateNamespace(nsp);
        ArgumentNullException.ThrowIfNull(message);
        var json = ProtocolJsonOptions.For(options);
        using var session = EncoderSession.Rent(json.Encoder, collectAttachments: false);
        WriteArgument(session.Writer, data ?? message, json);
        return session.Build(PacketType.ConnectError, nsp, ackId: null);
    }

    /// <summary>DISCONNECT: <c>1</c>, or <c>1/admin,</c>.</summary>
    public static EncodedPacket Disconnect(string nsp)
    {
        ValidateNamespace(nsp);
        var text = BuildText(PacketType.Disconnect, attachmentCount: 0, nsp, ackId: null, json: [], out var length);
        return new EncodedPacket([EnginePacket.FromReservedBuffer(text, length, isBinary: false)]);
    }

    /// <summary>
    /// EVENT (or BINARY_EVENT) from a data array encoded elsewhere (by another gateway or an emitter): only the header
    /// is written here, the JSON is copied as is.
    /// </summary>
    public static EncodedPacket EventFromData(string nsp, ReadOnlySpan<byte> dataJson, IReadOnlyList<ReadOnlyMemory<byte>> attachments, int? ackId)
    {
        ValidateNamespace(nsp);
        var type = attachments.Count > 0 ? PacketType.BinaryEvent : PacketType.Event;
        var parts = new EnginePacket[1 + attachments.Count];
        var text = BuildText(type, attachments.Count, nsp, ackId, dataJson, out var length);
        parts[0] = EnginePacket.FromReservedBuffer(text, length, isBinary: false);
        for (var i = 0; i < attachments.Count; i++)
        {
            parts[i + 1] = EnginePacket.FromBinary(attachments[i].Span);
        }

        return new EncodedPacket(parts);
    }

    /// <summary>The data array (JSON) of an encoded EVENT or ACK: the text after its header.</summary>
    public static ReadOnlyMemory<byte> DataOf(EncodedPacket packet)
    {
        var text = packet.Text.Payload;
        var span = text.Span;
        var position = 2; // Engine.IO "4" and the packet type
        while (position < span.Length && span[position] is >= (byte)'0' and <= (byte)'9')
        {
            position++;
        }

        if (position < span.Length && span[position] == (byte)'-')
        {
            position++;
        }

        if (position < span.Length && span[position] == (byte)'/')
        {
            position = span.IndexOf((byte)',') + 1;
        }

        while (position < span.Length && span[position] is >= (byte)'0' and <= (byte)'9')
        {
            position++;
        }

        return text[position..];
    }

    private static void WriteArguments(Utf8JsonWriter writer, ReadOnlySpan<object?> args, ProtocolJsonOptions json)
    {
        foreach (var arg in args)
        {
            WriteArgument(writer, arg, json);
        }
    }

    private static void WriteArgument(Utf8JsonWriter writer, object? arg, ProtocolJsonOptions json)
    {
        switch (arg)
        {
            case null:
                writer.WriteNullValue();
                return;
            case JsonElement element:
                element.WriteTo(writer);
                return;
            case byte[] bytes:
                BinaryConverters.Write(writer, bytes);
                return;
            case ReadOnlyMemory<byte> readOnlyMemory:
                BinaryConverters.Write(writer, readOnlyMemory);
                return;
            case Memory<byte> memory:
                BinaryConverters.Write(writer, memory);
                return;
            case ArraySegment<byte> segment:
                BinaryConverters.Write(writer, segment);
                return;
        }

        if (json.PrimitiveFastPath)
        {
            switch (arg)
            {
                case string text:
                    writer.WriteStringValue(text);
                    return;
                case bool boolean:
                    writer.WriteBooleanValue(boolean);
                    return;
                case int int32:
                    writer.WriteNumberValue(int32);
                    return;
                case long int64:
                    writer.WriteNumberValue(int64);
                    return;
                case double number when double.IsFinite(number):
                    writer.WriteNumberValue(number);
                    return;
            }
        }

        JsonSerializer.Serialize(writer, arg, arg.GetType(), json.Serializer);
    }

    private static void ValidateNamespace(string nsp)
    {
        ArgumentNullException.ThrowIfNull(nsp);

        // A client reads the namespace up to the first ',', so one inside it would corrupt the packet.
        if (nsp.Length == 0 || nsp[0] != '/' || nsp.Contains(','))
        {
            throw new ArgumentException($"A namespace starts with '/' and has no ',': \"{nsp}\".", nameof(nsp));
        }
    }

    /// <summary>
    /// An array laid out for <see cref="EnginePacket.FromReservedBuffer"/>: frame header room, then
    /// <c>4&lt;type&gt;[&lt;attachments&gt;-][&lt;nsp&gt;,][&lt;ack id&gt;]&lt;json&gt;</c>.
    /// </summary>
    private static byte[] BuildText(PacketType type, int attachmentCount, string nsp, long? ackId, ReadOnlySpan<byte> json, out int length)
    {
        var isMainNamespace = nsp.Length == 1;
        length = 2
            + (attachmentCount > 0 ? CountDigits(attachmentCount) + 1 : 0)
            + (isMainNamespace ? 0 : Encoding.UTF8.GetByteCount(nsp) + 1)
            + (ackId is { } id ? CountDigits(id) : 0)
            + json.Length;

        var buffer = GC.AllocateUninitializedArray<byte>(EnginePacket.HeaderReserve + length);
        var text = buffer.AsSpan(EnginePacket.HeaderReserve, length);
        text[0] = (byte)'4'; // Engine.IO "message"
        text[1] = (byte)('0' + (byte)type);
        var position = 2;
        if (attachmentCount > 0)
        {
            position += WriteDigits(text[position..], attachmentCount);
            text[position++] = (byte)'-';
        }

        if (!isMainNamespace)
        {
            position += Encoding.UTF8.GetBytes(nsp, text[position..]);
            text[position++] = (byte)',';
        }

        if (ackId is { } ack)
        {
            position += WriteDigits(text[position..], ack);
        }

        json.CopyTo(text[position..]);
        return buffer;
    }

    private static int CountDigits(long value)
    {
        var digits = 1;
        while (value >= 10)
        {
            value /= 10;
            digits++;
        }

        return digits;
    }

    private static int WriteDigits(Span<byte> destination, long value)
    {
        value.TryFormat(destination, out var written, default, CultureInfo.InvariantCulture);
        return written;
    }

    /// <summary>
    /// The per-thread JSON buffer, writer and attachment list of one encode. Rented (taken out of the thread slot, so
    /// a nested encode from inside a user converter gets its own) and returned when the encode ends.
    /// </summary>
    private sealed class EncoderSession : IDisposable
    {
        // A buffer that grew past this for one huge payload is dropped rather than kept by the thread forever.
        private const int MaxRetainedBufferSize = 256 * 1024;

        [ThreadStatic]
        private static EncoderSession? t_cached;

        private readonly List<ReadOnlyMemory<byte>> _attachments = [];
        private ArrayBufferWriter<byte> _buffer = new(1024);
        private JavaScriptEncoder? _writerEncoder;
        private Utf8JsonWriter? _writer;
        private List<ReadOnlyMemory<byte>>? _previousOutgoing;

        public Utf8JsonWriter Writer => _writer!;

        public static EncoderSession Rent(JavaScriptEncoder encoder, bool collectAttachments)
        {
            var session = t_cached ?? new EncoderSession();
            t_cached = null;
            session.Start(encoder, collectAttachments);
            return session;
        }

        public EncodedPacket Build(PacketType type, string nsp, long? ackId)
        {
            _writer!.Flush();
            var attachmentCount = _attachments.Count;
            if (attachmentCount > 0)
            {
                type = type == PacketType.Ack ? PacketType.BinaryAck : PacketType.BinaryEvent;
            }

            var parts = new EnginePacket[1 + attachmentCount];
            var text = BuildText(type, attachmentCount, nsp, ackId, _buffer.WrittenSpan, out var length);
            parts[0] = EnginePacket.FromReservedBuffer(text, length, isBinary: false);
            for (var i = 0; i < attachmentCount; i++)
            {
                parts[i + 1] = EnginePacket.FromBinary(_attachments[i].Span);
            }

            return new EncodedPacket(parts);
        }

        /// <summary>Gives the session back to the thread for the next encode.</summary>
        public void Dispose()
        {
            BinaryAttachments.Outgoing = _previousOutgoing;
            _previousOutgoing = null;

            // The list holds the caller's arrays; don't keep them alive.
            _attachments.Clear();
            if (_buffer.Capacity > MaxRetainedBufferSize)
            {
                _buffer = new ArrayBufferWriter<byte>(1024);
                _writer?.Dispose();
                _writer = null;
                _writerEncoder = null;
            }
            else
            {
                _buffer.ResetWrittenCount();
            }

            t_cached = this;
        }

        private void Start(JavaScriptEncoder encoder, bool collectAttachments)
        {
            if (_writer is null || !ReferenceEquals(_writerEncoder, encoder))
            {
                _writer?.Dispose();
                _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = encoder });
                _writerEncoder = encoder;
            }
            else
            {
                _writer.Reset(_buffer);
            }

            _previousOutgoing = BinaryAttachments.Outgoing;
            BinaryAttachments.Outgoing = collectAttachments ? _attachments : null;
        }
    }
}
