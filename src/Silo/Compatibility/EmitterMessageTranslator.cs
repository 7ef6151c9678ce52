using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using OrleansRooms.Grains;

namespace OrleansRooms.Silo.Compatibility;

/// <summary>
/// Turns what the official <c>@socket.io/redis-emitter</c> (v5) publishes into <see cref="ClusterMessage"/>s.
/// <list type="bullet">
/// <item>Broadcast channels <c>key#nsp#</c> and <c>key#nsp#room#</c>: MessagePack <c>[uid, packet, opts]</c> with
/// <c>packet = {type: 2 (EVENT) or 5 (BINARY_EVENT), data: [event, ...args], nsp}</c> and
/// <c>opts = {rooms: [...], except: [...], flags: {volatile?, compress?, ...}}</c>. The namespace is the packet's
/// (<c>/</c> when absent) and must match the channel's; the data becomes the JSON data array with binary values as
/// placeholders plus attachments.</item>
/// <item>Request channel <c>key-request#nsp#</c>: JSON (MessagePack is accepted too) <c>{type, opts: {rooms, except}, ...}</c>
/// with type 2 (socketsJoin: <c>rooms</c>), 3 (socketsLeave: <c>rooms</c>), 4 (disconnectSockets: <c>close</c>) or
/// 6 (serverSideEmit: <c>data = [event, ...args]</c>). Requests that need an answer (fetchSockets, allRooms, ...)
/// are rejected: an emitter cannot receive one.</item>
/// </list>
/// Malformed input is rejected with a reason (for the caller to log); the translator never throws on input.
/// The message owns its memory: nothing refers to the payload after the call.
/// </summary>
internal sealed class EmitterMessageTranslator(EmitterChannels channels)
{
    private const int EventPacket = 2;
    private const int BinaryEventPacket = 5;

    public EmitterChannels Channels { get; } = channels;

    /// <summary>Translates one message published on <paramref name="channel"/>; false with a reason when it cannot be.</summary>
    public bool TryTranslate(string channel, ReadOnlySpan<byte> payload, [NotNullWhen(true)] out ClusterMessage? message, [NotNullWhen(false)] out string? error)
    {
        message = null;
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
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException or FormatException)
        {
            // Limits of the JSON writer (a token over its maximum size) or reader on hostile input.
            error = $"malformed message: {ex.Message}";
            return false;
        }
    }

    private bool TryTranslateBroadcast(string channel, ReadOnlySpan<byte> payload, out ClusterMessage? message, out string? error)
    {
        message = null;
        var reader = new MessagePackReader(payload);
        if (!reader.TryReadArrayHeader(out int count) || count < 3)
        {
            error = "a broadcast is not a MessagePack array [uid, packet, opts]";
            return false;
        }

        if (!reader.TrySkip())
        {
            return Malformed(ref reader, "uid", out error);
        }

        // packet = {type, data, nsp}
        if (!reader.TryReadMapHeader(out int packetFields))
        {
            return Malformed(ref reader, "packet", out error);
        }

        long type = -1;
        string nsp = "/";
        byte[]? data = null;
        List<ReadOnlyMemory<byte>> attachments = [];
        for (int i = 0; i < packetFields; i++)
        {
            if (!reader.TryReadStringBytes(out var name))
            {
                return Malformed(ref reader, "packet field name", out error);
            }

            if (name.SequenceEqual("type"u8))
            {
                if (!reader.TryReadInt64(out type))
                {
                    return Malformed(ref reader, "packet.type", out error);
                }
            }
            else if (name.SequenceEqual("nsp"u8))
            {
                if (!reader.TryReadString(out nsp))
                {
                    return Malformed(ref reader, "packet.nsp", out error);
                }
            }
            else if (name.SequenceEqual("data"u8))
            {
                if (!TryReadEventData(ref reader, attachments, out data, out error))
                {
                    return false;
                }
            }
            else if (!reader.TrySkip())
            {
                return Malformed(ref reader, "packet", out error);
            }
        }

        if (type is not (EventPacket or BinaryEventPacket))
        {
            error = $"packet type {type} is not an event (2) or a binary event (5)";
            return false;
        }

        if (data is null)
        {
            error = "the packet has no data";
            return false;
        }

        if (!channel.AsSpan(Channels.BroadcastPrefix.Length).StartsWith(nsp + "#", StringComparison.Ordinal))
        {
            error = $"the packet's namespace '{nsp}' is not the channel's ('{channel}')";
            return false;
        }

        // opts = {rooms, except, flags}
        IReadOnlyList<string> rooms = [];
        IReadOnlyList<string> except = [];
        var flags = ClusterMessageFlags.None;
        if (!reader.TryReadNil())
        {
            if (!reader.TryReadMapHeader(out int optionFields))
            {
                return Malformed(ref reader, "opts", out error);
            }

            for (int i = 0; i < optionFields; i++)
            {
                if (!reader.TryReadStringBytes(out var name))
                {
                    return Malformed(ref reader, "opts field name", out error);
                }

                if (name.SequenceEqual("rooms"u8))
                {
                    if (!TryReadRooms(ref reader, "opts.rooms", out rooms, out error))
                    {
                        return false;
                    }
                }
                else if (name.SequenceEqual("except"u8))
                {
                    if (!TryReadRooms(ref reader, "opts.except", out except, out error))
                    {
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
                else if (!reader.TrySkip())
                {
                    return Malformed(ref reader, "opts", out error);
                }
            }
        }

        // Elements after opts (none today) are ignored, as the Node adapter ignores them.
        message = new ClusterMessage
        {
            Type = ClusterMessageType.Broadcast,
            Namespace = nsp,
            Rooms = rooms,
            Except = except,
            Flags = flags,
            Data = data,
            Attachments = attachments,
        };
        error = null;
        return true;
    }

    /// <summary>The packet data: an array whose first element is the event name, converted to JSON.</summary>
    private static bool TryReadEventData(ref MessagePackReader reader, List<ReadOnlyMemory<byte>> attachments, out byte[]? data, out string? error)
    {
        data = null;
        var probe = reader;
        if (!probe.TryReadArrayHeader(out int length) || length == 0 || !probe.TryPeekType(out var first) || first != MessagePackType.String)
        {
            error = probe.Error == MessagePackError.Truncated ? "the MessagePack input is truncated" : "packet.data is not an array starting with the event name";
            return false;
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, MessagePackJson.Options))
        {
            if (!MessagePackJson.TryConvert(ref reader, writer, attachments, out error))
            {
                return false;
            }
        }

        data = buffer.WrittenSpan.ToArray();
        return true;
    }

    /// <summary>An array of room names (nil reads as none).</summary>
    private static bool TryReadRooms(ref MessagePackReader reader, string what, out IReadOnlyList<string> rooms, out string? error)
    {
        rooms = [];
        error = null;
        if (reader.TryReadNil())
        {
            return true;
        }

        if (!reader.TryReadArrayHeader(out int count))
        {
            return Malformed(ref reader, what, out error);
        }

        var list = new string[count];
        for (int i = 0; i < count; i++)
        {
            if (!reader.TryReadString(out list[i]))
            {
                return Malformed(ref reader, what + " (rooms are strings)", out error);
            }
        }

        rooms = list;
        return true;
    }

    /// <summary>The broadcast flags: <c>volatile</c> maps to <see cref="ClusterMessageFlags.Volatile"/>; <c>compress</c> and others are ignored.</summary>
    private static bool TryReadFlags(ref MessagePackReader reader, out ClusterMessageFlags flags, out string? error)
    {
        flags = ClusterMessageFlags.None;
        error = null;
        if (reader.TryReadNil())
        {
            return true;
        }

        if (!reader.TryReadMapHeader(out int count))
        {
            return Malformed(ref reader, "opts.flags", out error);
        }

        for (int i = 0; i < count; i++)
        {
            if (!reader.TryReadStringBytes(out var name))
            {
                return Malformed(ref reader, "opts.flags field name", out error);
            }

            if (name.SequenceEqual("volatile"u8) && reader.TryReadBoolean(out bool isVolatile))
            {
                if (isVolatile)
                {
                    flags |= ClusterMessageFlags.Volatile;
                }
            }
            else if (!reader.TrySkip())
            {
                return Malformed(ref reader, "opts.flags", out error);
            }
        }

        return true;
    }

    private bool TryTranslateRequest(string channel, ReadOnlySpan<byte> payload, out ClusterMessage? message, out string? error)
    {
        message = null;
        if (!channel.EndsWith('#') || channel.Length < Channels.RequestPrefix.Length + 2)
        {
            error = $"request channel '{channel}' does not name a namespace";
            return false;
        }

        string nsp = channel[Channels.RequestPrefix.Length..^1];
        List<ReadOnlyMemory<byte>> attachments = [];
        ReadOnlySpan<byte> json = payload;
        if (payload.IsEmpty || payload[0] != (byte)'{')
        {
            // The emitter sends JSON; newer Node adapters may send MessagePack: convert it to the same JSON.
            var buffer = new ArrayBufferWriter<byte>(256);
            var reader = new MessagePackReader(payload);
            using (var writer = new Utf8JsonWriter(buffer, MessagePackJson.Options))
            {
                if (!reader.TryPeekType(out var type) || type != MessagePackType.Map)
                {
                    error = "a request is neither a JSON object nor a MessagePack map";
                    return false;
                }

                if (!MessagePackJson.TryConvert(ref reader, writer, attachments, out error))
                {
                    return false;
                }
            }

            json = buffer.WrittenSpan.ToArray();
        }

        using var document = JsonDocument.Parse(json.ToArray());
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var typeElement) || !typeElement.TryGetInt32(out int requestType))
        {
            error = "a request has no numeric type";
            return false;
        }

        if (!TryReadSelection(root, out var rooms, out var except, out error))
        {
            return false;
        }

        switch (requestType)
        {
            case 2 or 3:
                if (!root.TryGetProperty("rooms", out var targets) || !TryReadRoomList(targets, out var targetRooms))
                {
                    error = "socketsJoin/socketsLeave needs rooms (an array of strings)";
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
                return true;
            case 4:
                bool close = root.TryGetProperty("close", out var closeElement) && closeElement.ValueKind == JsonValueKind.True;
                message = new ClusterMessage
                {
                    Type = ClusterMessageType.DisconnectSockets,
                    Namespace = nsp,
                    Rooms = rooms,
                    Except = except,
                    Flags = close ? ClusterMessageFlags.Close : ClusterMessageFlags.None,
                };
                return true;
            case 6:
                if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array
                    || data.GetArrayLength() == 0 || data[0].ValueKind != JsonValueKind.String)
                {
                    error = "serverSideEmit needs data, an array starting with the event name";
                    return false;
                }

                message = new ClusterMessage
                {
                    Type = ClusterMessageType.ServerSideEmit,
                    Namespace = nsp,
                    Data = System.Text.Encoding.UTF8.GetBytes(data.GetRawText()),
                    Attachments = attachments,
                };
                return true;
            default:
                error = $"request type {requestType} is not supported from an emitter (only socketsJoin 2, socketsLeave 3, disconnectSockets 4 and serverSideEmit 6 are: the others need an answer)";
                return false;
        }
    }

    /// <summary>The sockets a request selects: <c>opts.rooms</c> and <c>opts.except</c> (both optional).</summary>
    private static bool TryReadSelection(JsonElement root, out IReadOnlyList<string> rooms, out IReadOnlyList<string> except, out string? error)
    {
        rooms = [];
        except = [];
        error = null;
        if (!root.TryGetProperty("opts", out var opts) || opts.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (opts.ValueKind != JsonValueKind.Object
            || (opts.TryGetProperty("rooms", out var r) && !TryReadRoomList(r, out rooms))
            || (opts.TryGetProperty("except", out var e) && !TryReadRoomList(e, out except)))
        {
            error = "a request's opts.rooms and opts.except must be arrays of strings";
            return false;
        }

        return true;
    }

    /// <summary>An array of strings (a single string reads as one room, null as none).</summary>
    private static bool TryReadRoomList(JsonElement element, out IReadOnlyList<string> rooms)
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
                var list = new string[element.GetArrayLength()];
                int i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                    {
                        return false;
                    }

                    list[i++] = item.GetString()!;
                }

                rooms = list;
                return true;
            default:
                return false;
        }
    }

    private static bool Malformed(ref MessagePackReader reader, string what, out string? error)
    {
        error = reader.Error == MessagePackError.Truncated
            ? $"the MessagePack input is truncated (in {what})"
            : $"{what} is malformed ({reader.Error})";
        return false;
    }
}
