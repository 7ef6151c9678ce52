using System.Buffers;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using MessagePack;
using OrleansRooms.Grains.Messages;

namespace OrleansRooms.Silo.Compatibility;

/// <summary>
/// Turns what the official <c>@socket.io/redis-emitter</c> (5.x) publishes into <see cref="ClusterMessage"/>s.
/// <list type="bullet">
/// <item>Broadcast channels <c>key#nsp#</c> and <c>key#nsp#room#</c>: MessagePack <c>[uid, packet, opts]</c> with
/// <c>packet = {type: 2 (EVENT) or 5 (BINARY_EVENT), data: [event, ...args], nsp}</c> and
/// <c>opts = {rooms: [...], except: [...], flags: {volatile?, compress?}}</c>. The namespace is the packet's and must be
/// the channel's; the data becomes the JSON data array with binary values as placeholders plus attachments.</item>
/// <item>Request channels <c>key-request#nsp#</c>: JSON (or MessagePack, as newer Node adapters write) with
/// <c>type</c> 2 (socketsJoin: <c>rooms</c>), 3 (socketsLeave: <c>rooms</c>), 4 (disconnectSockets: <c>close</c>) or
/// 6 (serverSideEmit: <c>data = [event, ...args]</c>), and <c>opts = {rooms, except}</c> selecting the sockets.
/// Requests that need an answer (fetchSockets, allRooms, ...) are refused: an emitter cannot receive one.</item>
/// </list>
/// Input that does not fit is refused with a reason; the translator never throws on input. One instance decodes one
/// message at a time (it reuses its buffer); the messages it returns own their memory.
/// </summary>
internal sealed class EmitterMessageTranslator : IDisposable
{
    private const int EventPacket = 2;
    private const int BinaryEventPacket = 5;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // JSON.stringify writes non-ASCII text as it is.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly ArrayBufferWriter<byte> _buffer = new(256);
    private readonly Utf8JsonWriter _writer;
    private readonly List<ReadOnlyMemory<byte>> _attachments = [];

    public EmitterMessageTranslator(EmitterChannels channels)
    {
        Channels = channels;
        _writer = new Utf8JsonWriter(_buffer, WriterOptions);
    }

    public EmitterChannels Channels { get; }

    public void Dispose() => _writer.Dispose();

    /// <summary>Translates one message published on <paramref name="channel"/>; false with a reason when it cannot be.</summary>
    public bool TryTranslate(string channel, ReadOnlyMemory<byte> payload, [NotNullWhen(true)] out ClusterMessage? message, [NotNullWhen(false)] out string? error)
    {
        message = null;
        _buffer.ResetWrittenCount();
        _writer.Reset();
        _attachments.Clear();
        try
        {
            if (channel.StartsWith(Channels.RequestPrefix, StringComparison.Ordinal))
            {
                return TryTranslateRequest(channel, payload, out message, out error);
            }

            if (channel.StartsWith(Channels.BroadcastPrefix, StringComparison.Ordinal))
            {
                return TryTranslateBroadcast(channel, payload, out message, out error);
            }

            error = $"channel '{channel}' is not an emitter channel of key '{Channels.Key}'";
            return false;
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException)
        {
            error = $"malformed MessagePack: {ex.Message}";
            return false;
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException or FormatException)
        {
            error = $"malformed message: {ex.Message}";
            return false;
        }
    }

    private bool TryTranslateBroadcast(string channel, ReadOnlyMemory<byte> payload, out ClusterMessage? message, out string? error)
    {
        message = null;
        var reader = new MessagePackReader(payload);
        if (reader.End || reader.NextMessagePackType != MessagePackType.Array || reader.ReadArrayHeader() is var count && count < 3)
        {
            error = "a broadcast is not a MessagePack array [uid, packet, opts]";
            return false;
        }

        reader.Skip(); // uid: the publisher's id, which only Node servers need (to ignore their own broadcasts)

        if (reader.NextMessagePackType != MessagePackType.Map)
        {
            error = "the packet is not a map";
            return false;
        }

        long type = -1;
        var nsp = "/";
        ReadOnlyMemory<byte> data = default;
        var fields = reader.ReadMapHeader();
        for (var i = 0; i < fields; i++)
        {
            if (!TryReadName(ref reader, out var name, out error))
            {
                return false;
            }

            if (name.SequenceEqual("type"u8))
            {
                if (reader.NextMessagePackType != MessagePackType.Integer)
                {
                    error = "packet.type is not an integer";
                    return false;
                }

                type = reader.ReadInt64();
            }
            else if (name.SequenceEqual("nsp"u8))
            {
                if (!TryReadString(ref reader, out nsp))
                {
                    error = "packet.nsp is not a string";
                    return false;
                }
            }
            else if (name.SequenceEqual("data"u8))
            {
                if (!TryReadEventData(ref reader, out data, out error))
                {
                    return false;
                }
            }
            else
            {
                reader.Skip();
            }
        }

        if (type is not (EventPacket or BinaryEventPacket))
        {
            error = $"packet type {type} is not an event (2) or a binary event (5)";
            return false;
        }

        if (data.IsEmpty)
        {
            error = "the packet has no data";
            return false;
        }

        if (!nsp.StartsWith('/') || !channel.AsSpan(Channels.BroadcastPrefix.Length).StartsWith(nsp + "#", StringComparison.Ordinal))
        {
            error = $"the packet's namespace '{nsp}' is not the channel's";
            return false;
        }

        ImmutableArray<string> rooms = [];
        ImmutableArray<string> except = [];
        var flags = ClusterMessageFlags.None;
        if (!reader.TryReadNil())
        {
            if (reader.NextMessagePackType != MessagePackType.Map)
            {
                error = "opts is not a map";
                return false;
            }

            var options = reader.ReadMapHeader();
            for (var i = 0; i < options; i++)
            {
                if (!TryReadName(ref reader, out var name, out error))
                {
                    return false;
                }

                if (name.SequenceEqual("rooms"u8))
                {
                    if (!TryReadRooms(ref reader, out rooms))
                    {
                        error = "opts.rooms is not an array of strings";
                        return false;
                    }
                }
                else if (name.SequenceEqual("except"u8))
                {
                    if (!TryReadRooms(ref reader, out except))
                    {
                        error = "opts.except is not an array of strings";
                        return false;
                    }
                }
                else if (name.SequenceEqual("flags"u8))
                {
                    if (!TryReadFlags(ref reader, out flags, out error))
                    {
                        return false;
                    }
                }
                else
                {
                    reader.Skip();
                }
            }
        }

        // Elements after opts (none today) are ignored, as Node servers ignore them.
        message = new ClusterMessage
        {
            Type = ClusterMessageType.Broadcast,
            Namespace = nsp,
            Rooms = rooms,
            Except = except,
            Flags = flags,
            Data = data,
            Attachments = [.. _attachments],
        };
        error = null;
        return true;
    }

    /// <summary>The packet's data: an array whose first element is the event name, as JSON.</summary>
    private bool TryReadEventData(ref MessagePackReader reader, out ReadOnlyMemory<byte> data, out string? error)
    {
        data = default;
        var peek = reader.CreatePeekReader();
        if (peek.NextMessagePackType != MessagePackType.Array || peek.ReadArrayHeader() == 0 || peek.NextMessagePackType != MessagePackType.String)
        {
            error = "packet.data is not an array starting with the event name";
            return false;
        }

        // A packet that names its data twice keeps the last, as a JavaScript object would.
        _buffer.ResetWrittenCount();
        _writer.Reset();
        _attachments.Clear();
        if (!MessagePackJson.TryWrite(ref reader, _writer, _attachments, out error))
        {
            return false;
        }

        _writer.Flush();
        data = _buffer.WrittenSpan.ToArray();
        return true;
    }

    /// <summary>An array of room names; nil reads as none.</summary>
    private static bool TryReadRooms(ref MessagePackReader reader, out ImmutableArray<string> rooms)
    {
        rooms = [];
        if (reader.TryReadNil())
        {
            return true;
        }

        if (reader.NextMessagePackType != MessagePackType.Array)
        {
            return false;
        }

        var count = reader.ReadArrayHeader();
        var list = ImmutableArray.CreateBuilder<string>(count);
        for (var i = 0; i < count; i++)
        {
            if (!TryReadString(ref reader, out var room))
            {
                return false;
            }

            list.Add(room);
        }

        rooms = list.MoveToImmutable();
        return true;
    }

    /// <summary>The broadcast flags: <c>volatile</c> and <c>compress: false</c> are carried; others are ignored.</summary>
    private static bool TryReadFlags(ref MessagePackReader reader, out ClusterMessageFlags flags, out string? error)
    {
        flags = ClusterMessageFlags.None;
        error = null;
        if (reader.TryReadNil())
        {
            return true;
        }

        if (reader.NextMessagePackType != MessagePackType.Map)
        {
            error = "opts.flags is not a map";
            return false;
        }

        var count = reader.ReadMapHeader();
        for (var i = 0; i < count; i++)
        {
            if (!TryReadName(ref reader, out var name, out error))
            {
                return false;
            }

            if (name.SequenceEqual("volatile"u8) && reader.NextMessagePackType == MessagePackType.Boolean)
            {
                if (reader.ReadBoolean())
                {
                    flags |= ClusterMessageFlags.Volatile;
                }
            }
            else if (name.SequenceEqual("compress"u8) && reader.NextMessagePackType == MessagePackType.Boolean)
            {
                if (!reader.ReadBoolean())
                {
                    flags |= ClusterMessageFlags.Uncompressed;
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return true;
    }

    private bool TryTranslateRequest(string channel, ReadOnlyMemory<byte> payload, out ClusterMessage? message, out string? error)
    {
        message = null;
        var nsp = channel.EndsWith('#') ? channel[Channels.RequestPrefix.Length..^1] : "";
        if (!nsp.StartsWith('/'))
        {
            error = "the request channel does not name a namespace";
            return false;
        }

        var json = payload;
        if (payload.IsEmpty || payload.Span[0] != (byte)'{')
        {
            // The emitter writes JSON; newer Node adapters write MessagePack: read it as the same JSON.
            var reader = new MessagePackReader(payload);
            if (reader.End || reader.NextMessagePackType != MessagePackType.Map)
            {
                error = "a request is neither a JSON object nor a MessagePack map";
                return false;
            }

            if (!MessagePackJson.TryWrite(ref reader, _writer, _attachments, out error))
            {
                return false;
            }

            _writer.Flush();
            json = _buffer.WrittenMemory;
        }

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type"u8, out var typeElement) || !typeElement.TryGetInt32(out var requestType))
        {
            error = "a request has no numeric type";
            return false;
        }

        if (!TryReadSelection(root, out var rooms, out var except))
        {
            error = "a request's opts.rooms and opts.except must be arrays of strings";
            return false;
        }

        switch (requestType)
        {
            case 2 or 3:
                if (!root.TryGetProperty("rooms"u8, out var targets) || !TryReadRoomList(targets, out var targetRooms))
                {
                    error = "socketsJoin and socketsLeave need rooms (an array of strings)";
                    return false;
                }

                message = new ClusterMessage
                {
                    Type = requestType == 2 ? ClusterMessageType.SocketsJoin : ClusterMessageType.SocketsLeave,
                    Namespace = nsp,
                    Rooms = rooms,
                    Except = except,
                    TargetRooms = targetRooms,
                };
                error = null;
                return true;
            case 4:
                var close = root.TryGetProperty("close"u8, out var closeElement) && closeElement.ValueKind == JsonValueKind.True;
                message = new ClusterMessage
                {
                    Type = ClusterMessageType.DisconnectSockets,
                    Namespace = nsp,
                    Rooms = rooms,
                    Except = except,
                    Flags = close ? ClusterMessageFlags.Close : ClusterMessageFlags.None,
                };
                error = null;
                return true;
            case 6:
                if (!root.TryGetProperty("data"u8, out var data) || data.ValueKind != JsonValueKind.Array
                    || data.GetArrayLength() == 0 || data[0].ValueKind != JsonValueKind.String)
                {
                    error = "serverSideEmit needs data, an array starting with the event name";
                    return false;
                }

                message = new ClusterMessage
                {
                    Type = ClusterMessageType.ServerSideEmit,
                    Namespace = nsp,
                    Data = JsonMarshal.GetRawUtf8Value(data).ToArray(),
                    Attachments = [.. _attachments],
                };
                error = null;
                return true;
            default:
                error = $"request type {requestType} is not one an emitter can send (socketsJoin 2, socketsLeave 3, disconnectSockets 4, serverSideEmit 6: the others need an answer)";
                return false;
        }
    }

    /// <summary>The sockets a request selects: <c>opts.rooms</c> and <c>opts.except</c>, both optional.</summary>
    private static bool TryReadSelection(JsonElement root, out ImmutableArray<string> rooms, out ImmutableArray<string> except)
    {
        rooms = [];
        except = [];
        if (!root.TryGetProperty("opts"u8, out var opts) || opts.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        return opts.ValueKind == JsonValueKind.Object
            && (!opts.TryGetProperty("rooms"u8, out var r) || TryReadRoomList(r, out rooms))
            && (!opts.TryGetProperty("except"u8, out var e) || TryReadRoomList(e, out except));
    }

    /// <summary>An array of strings; a single string reads as one room, null as none.</summary>
    private static bool TryReadRoomList(JsonElement element, out ImmutableArray<string> rooms)
    {
        rooms = [];
        switch (element.ValueKind)
        {
            case JsonValueKind.Null:
                return true;
            case JsonValueKind.String:
                rooms = [element.GetString()!];
                return true;
            case JsonValueKind.Array:
                var list = ImmutableArray.CreateBuilder<string>(element.GetArrayLength());
                foreach (var item in element.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                    {
                        return false;
                    }

                    list.Add(item.GetString()!);
                }

                rooms = list.MoveToImmutable();
                return true;
            default:
                return false;
        }
    }

    /// <summary>A map key that must be a string (the fields of the emitter's packet and options).</summary>
    private static bool TryReadName(ref MessagePackReader reader, out ReadOnlySpan<byte> name, out string? error)
    {
        name = default;
        if (reader.NextMessagePackType != MessagePackType.String || !MessagePackJson.TryReadUtf8(ref reader, out var utf8))
        {
            error = "a field name is not a UTF-8 string";
            return false;
        }

        name = utf8.Span;
        error = null;
        return true;
    }

    private static bool TryReadString(ref MessagePackReader reader, out string value)
    {
        value = "";
        if (reader.NextMessagePackType != MessagePackType.String || !MessagePackJson.TryReadUtf8(ref reader, out var utf8))
        {
            return false;
        }

        value = System.Text.Encoding.UTF8.GetString(utf8.Span);
        return true;
    }
}
