using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace OrleansRooms.LoadGenerator;

/// <summary>The framing the clients speak (<c>--protocol</c>).</summary>
internal enum WireProtocol
{
    SocketIO,

    /// <summary>The SignalR JSON hub protocol over WebSockets, negotiation skipped (bench/Servers/SignalR).</summary>
    SignalR,
}

/// <summary>
/// One Socket.IO client over a raw socket: hand-written HTTP upgrade, RFC 6455 frames (masked out, unmasked in),
/// Engine.IO v4 open/ping/pong, Socket.IO "40" connect and acks. Received "msg" events are never JSON-parsed: the
/// sequence number and the send timestamp sit at a fixed offset of the payload (see <see cref="Payload"/>).
/// With <see cref="WireProtocol.SignalR"/> the same client speaks SignalR's JSON hub protocol instead: records ended by
/// 0x1E, a handshake instead of "40", invocations with an invocation id for the acknowledged calls, and pings of its
/// own for the server's client timeout.
/// </summary>
internal sealed class WsClient : IDisposable
{
    private readonly Socket _socket;
    private readonly Lock _sendLock = new();
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte[] _buffer = new byte[16 * 1024];
    private int _length;
    private int _nextAck;
    private TaskCompletionSource? _pendingAck;
    private int _pendingAckId;
    private long _pendingAckStart;
    private EpollReceiver? _receiver;

    // SignalR: the start of a record that a frame ended before its 0x1E (a server may split its writes over frames).
    private byte[] _partialRecord = [];
    private int _partialLength;

    private WsClient(Socket socket)
    {
        _socket = socket;
        Fd = (int)socket.Handle;
    }

    // The compressed messages of every client a receiver thread reads: one inflate stream serves them all, since the
    // server compresses each message on its own (server_no_context_takeover).
    [ThreadStatic]
    private static MessageInflater? t_inflater;

    /// <summary>Offer <c>permessage-deflate</c> in the upgrade (<c>--deflate 1</c>); compressed messages are inflated.</summary>
    public static bool OfferDeflate { get; set; }

    /// <summary>The framing every client of the run speaks; set once, before the first connection.</summary>
    public static WireProtocol Protocol { get; set; }

    /// <summary>The path bench/Servers/SignalR maps its hub at.</summary>
    private const string HubPath = "/bench";

    private const byte RecordSeparator = 0x1E;

    /// <summary>Where deliveries and ack latencies go; shared by every client of the run.</summary>
    public static Measurement Sink { get; } = new();

    /// <summary>The socket's descriptor, read by <see cref="EpollReceiver"/>.</summary>
    public int Fd { get; }

    /// <summary>
    /// Connects, upgrades and joins namespace "/" with blocking calls (see <see cref="EpollReceiver"/> for why), then
    /// hands the socket to receiver <paramref name="receiver"/>.
    /// </summary>
    public static WsClient Connect(IPEndPoint server, IPAddress? source, int receiver)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var client = new WsClient(socket);
        try
        {
            if (source is not null)
            {
                socket.Bind(new IPEndPoint(source, 0)); // spreads source ports over several loopback addresses
            }

            socket.Connect(server);
            var key = Convert.ToBase64String(Guid.NewGuid().ToByteArray());
            // SignalR accepts a WebSocket upgrade with no negotiate call before it (the official clients' skipNegotiation).
            var path = Protocol == WireProtocol.SignalR ? HubPath : "/socket.io/?EIO=4&transport=websocket";
            var request = $"GET {path} HTTP/1.1\r\nHost: {server}\r\nUpgrade: websocket\r\n" +
                $"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n" +
                (OfferDeflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n" : "\r\n");
            socket.Send(Encoding.ASCII.GetBytes(request));
            client.ReadUpgrade();
            client.ParseFrames(); // the Engine.IO open packet may have come with the response
            client._receiver = EpollReceiver.For(receiver);
            client._receiver.Add(client);
            client.SendText(Protocol == WireProtocol.SignalR ? "{\"protocol\":\"json\",\"version\":1}\u001e"u8 : "40"u8);
            if (!client._connected.Task.Wait(TimeSpan.FromSeconds(30)))
            {
                throw new IOException($"no {Protocol} connect within 30 s");
            }

            if (Protocol == WireProtocol.SignalR)
            {
                SignalRKeepAlive.Add(client);
            }

            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends <c>42N["event","room"]</c> and completes when the server acknowledges it; with SignalR, invokes the hub
    /// method of that name (matched without regard to case) and completes on its completion message.
    /// </summary>
    public Task EmitWithAckAsync(string eventName, string room)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var id = ++_nextAck;
        _pendingAckId = id;
        _pendingAckStart = Stopwatch.GetTimestamp();
        Volatile.Write(ref _pendingAck, tcs); // one outstanding ack per client is all the scenarios need
        SendText(Encoding.ASCII.GetBytes(Protocol == WireProtocol.SignalR
            ? $"{{\"type\":1,\"invocationId\":\"{id}\",\"target\":\"{eventName}\",\"arguments\":[\"{room}\"]}}\u001e"
            : $"42{id}[\"{eventName}\",\"{room}\"]"));
        return tcs.Task;
    }

    /// <summary>The bytes of a publish to <paramref name="room"/> up to the payload; <see cref="PublishSuffix"/> ends it.</summary>
    public static byte[] PublishPrefix(string room) => Encoding.ASCII.GetBytes(Protocol == WireProtocol.SignalR
        ? $"{{\"type\":1,\"target\":\"pub\",\"arguments\":[\"{room}\",\""
        : $"42[\"pub\",\"{room}\",\"");

    /// <summary>What follows the payload of a publish: a SignalR invocation without an invocation id expects no completion.</summary>
    public static byte[] PublishSuffix => Protocol == WireProtocol.SignalR ? "\"]}\u001e"u8.ToArray() : "\"]"u8.ToArray();

    public void SendText(ReadOnlySpan<byte> payload)
    {
        var frame = new byte[Frames.MaxHeader + payload.Length];
        var length = Frames.WriteText(frame, payload);
        SendRaw(frame.AsSpan(0, length));
    }

    /// <summary>Writes already framed bytes (several frames at once when a publisher batches).</summary>
    public void SendRaw(ReadOnlySpan<byte> frames)
    {
        lock (_sendLock)
        {
            while (!frames.IsEmpty)
            {
                var sent = _socket.Send(frames);
                frames = frames[sent..];
            }
        }
    }

    public void Dispose()
    {
        if (Protocol == WireProtocol.SignalR)
        {
            SignalRKeepAlive.Remove(this);
        }

        _receiver?.Remove(this);
        _socket.Dispose();
    }

    private void ReadUpgrade()
    {
        _socket.ReceiveTimeout = 30_000;
        while (true)
        {
            var n = _socket.Receive(_buffer.AsSpan(_length));
            if (n == 0)
            {
                throw new IOException("closed during the upgrade");
            }

            _length += n;
            var end = _buffer.AsSpan(0, _length).IndexOf("\r\n\r\n"u8);
            if (end < 0)
            {
                continue;
            }

            if (!_buffer.AsSpan(0, end).StartsWith("HTTP/1.1 101"u8))
            {
                throw new IOException("upgrade refused: " + Encoding.ASCII.GetString(_buffer, 0, Math.Min(end, 200)));
            }

            // Frames may follow the headers in the same read (the Engine.IO open packet).
            _length -= end + 4;
            Buffer.BlockCopy(_buffer, end + 4, _buffer, 0, _length);
            return;
        }
    }

    /// <summary>Called on the receiver's thread when the socket is readable; false once the connection has ended.</summary>
    public bool OnReadable()
    {
        if (_length == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2); // one frame larger than the buffer
        }

        var n = EpollReceiver.Receive(Fd, _buffer.AsSpan(_length));
        if (n < 0)
        {
            return true;
        }

        if (n == 0)
        {
            Sink.OnClosed();
            _connected.TrySetException(new IOException("closed"));
            _pendingAck?.TrySetException(new IOException("closed"));
            return false;
        }

        _length += n;
        ParseFrames();
        return true;
    }

    private void ParseFrames()
    {
        var offset = 0;
        while (Frames.TryRead(_buffer.AsSpan(offset, _length - offset), out var opcode, out var payload, out var consumed))
        {
            switch (opcode)
            {
                case 0 or 1 when Protocol == WireProtocol.SignalR: // continuation frames too: records end at 0x1E
                    OnSignalRText(payload);
                    break;
                case 1 when (_buffer[offset] & 0x40) != 0: // RSV1: compressed (permessage-deflate)
                    OnMessage((t_inflater ??= new MessageInflater()).Inflate(payload));
                    break;
                case 1: // text; servers under test do not fragment these messages
                    OnMessage(payload);
                    break;
                case 9: // ping
                    var pong = new byte[Frames.MaxHeader + payload.Length];
                    SendRaw(pong.AsSpan(0, Frames.Write(pong, 0x8A, payload)));
                    break;
                case 8:
                    _socket.Shutdown(SocketShutdown.Both);
                    break;
            }

            offset += consumed;
        }

        if (offset > 0)
        {
            _length -= offset;
            Buffer.BlockCopy(_buffer, offset, _buffer, 0, _length);
        }
    }

    private void OnMessage(ReadOnlySpan<byte> m)
    {
        if (m.StartsWith(Payload.EventPrefix))
        {
            Sink.OnDelivery(m[Payload.EventPrefix.Length..]);
        }
        else if (m.Length == 1 && m[0] == '2')
        {
            SendText("3"u8); // Engine.IO heartbeat
        }
        else if (m.Length >= 2 && m[0] == '4' && m[1] == '0')
        {
            _connected.TrySetResult();
        }
        else if (m.Length >= 3 && m[0] == '4' && m[1] == '3' && Interlocked.Exchange(ref _pendingAck, null) is { } ack)
        {
            Sink.OnAck(Stopwatch.GetElapsedTime(_pendingAckStart));
            ack.TrySetResult();
        }
    }

    /// <summary>
    /// The text of one SignalR frame: every record it ends is handled in place; a record the frame leaves unfinished
    /// waits in <see cref="_partialRecord"/> for the rest.
    /// </summary>
    private void OnSignalRText(ReadOnlySpan<byte> data)
    {
        if (_partialLength > 0)
        {
            var end = data.IndexOf(RecordSeparator);
            AppendPartial(end < 0 ? data : data[..end]);
            if (end < 0)
            {
                return;
            }

            OnSignalRRecord(_partialRecord.AsSpan(0, _partialLength));
            _partialLength = 0;
            data = data[(end + 1)..];
        }

        for (var end = data.IndexOf(RecordSeparator); end >= 0; end = data.IndexOf(RecordSeparator))
        {
            OnSignalRRecord(data[..end]);
            data = data[(end + 1)..];
        }

        AppendPartial(data);
    }

    private void AppendPartial(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        if (_partialRecord.Length - _partialLength < data.Length)
        {
            Array.Resize(ref _partialRecord, Math.Max(_partialRecord.Length * 2, _partialLength + data.Length + 1024));
        }

        data.CopyTo(_partialRecord.AsSpan(_partialLength));
        _partialLength += data.Length;
    }

    private void OnSignalRRecord(ReadOnlySpan<byte> r)
    {
        if (r.StartsWith(Payload.SignalRPrefix))
        {
            Sink.OnDelivery(r[Payload.SignalRPrefix.Length..]);
        }
        else if (r.StartsWith("{\"type\":3,\"invocationId\":\""u8))
        {
            OnSignalRCompletion(r);
        }
        else if (r.SequenceEqual("{}"u8))
        {
            _connected.TrySetResult(); // the handshake response
        }
        else if (r.StartsWith("{\"error\":"u8) || r.StartsWith("{\"type\":7"u8))
        {
            // A refused handshake, or the server closing the connection: say why before the socket closes.
            var why = new IOException("SignalR: " + Encoding.UTF8.GetString(r));
            Scenarios.Log(why.Message);
            _connected.TrySetException(why);
            Interlocked.Exchange(ref _pendingAck, null)?.TrySetException(why);
        }

        // {"type":6} pings need no answer: SignalRKeepAlive sends this client's own.
    }

    /// <summary><c>{"type":3,"invocationId":"N"[,"result":..|,"error":".."]}</c>: the ack of call N, or its failure.</summary>
    private void OnSignalRCompletion(ReadOnlySpan<byte> r)
    {
        var rest = r["{\"type\":3,\"invocationId\":\""u8.Length..];
        var quote = rest.IndexOf((byte)'"');
        if (quote <= 0 || Payload.ReadDigits(rest[..quote]) != Volatile.Read(ref _pendingAckId)
            || Interlocked.Exchange(ref _pendingAck, null) is not { } ack)
        {
            return; // not the call this client waits for (there is never more than one)
        }

        if (rest[quote..].IndexOf("\"error\":"u8) >= 0)
        {
            ack.TrySetException(new IOException("SignalR: " + Encoding.UTF8.GetString(r)));
            return;
        }

        Sink.OnAck(Stopwatch.GetElapsedTime(_pendingAckStart));
        ack.TrySetResult();
    }
}

/// <summary>
/// Every SignalR client pings the server every 10 s, as the official clients do (every 15 s). A client's first ping
/// starts the server's ClientTimeoutInterval check (30 s without a message closes it), so the server under test does
/// the timeout work it does for real clients; 10 s rather than 15 leaves room for a late timer on a loaded machine.
/// </summary>
internal static class SignalRKeepAlive
{
    private static readonly ConcurrentDictionary<WsClient, byte> s_clients = new();
    private static readonly byte[] s_ping = Ping();
    private static readonly Timer s_timer = new(_ => Tick(), null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));

    public static void Add(WsClient client) => s_clients[client] = 0;

    public static void Remove(WsClient client) => s_clients.TryRemove(client, out _);

    private static void Tick()
    {
        foreach (var client in s_clients.Keys)
        {
            try
            {
                client.SendRaw(s_ping);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Closed under the timer: the receiver counts the close (Measurement.Closed), the scenario reports it.
                Remove(client);
            }
        }
    }

    private static byte[] Ping()
    {
        var frame = new byte[Frames.MaxHeader + 11];
        return frame[..Frames.WriteText(frame, "{\"type\":6}\u001e"u8)];
    }
}

/// <summary>RFC 6455 framing for the client side.</summary>
internal static class Frames
{
    public const int MaxHeader = 14;

    public static int WriteText(Span<byte> destination, ReadOnlySpan<byte> payload) => Write(destination, 0x81, payload);

    /// <summary>Writes one final masked frame; returns its length.</summary>
    public static int Write(Span<byte> destination, byte first, ReadOnlySpan<byte> payload)
    {
        destination[0] = first;
        int header;
        if (payload.Length < 126)
        {
            destination[1] = (byte)(0x80 | payload.Length);
            header = 2;
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            destination[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payload.Length);
            header = 4;
        }
        else
        {
            destination[1] = 0x80 | 127;
            BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payload.Length);
            header = 10;
        }

        // A client must mask; the key only has to be unpredictable to proxies, of which there are none here.
        var key = Random.Shared.Next();
        BinaryPrimitives.WriteInt32LittleEndian(destination[header..], key);
        var mask = destination.Slice(header, 4);
        var body = destination.Slice(header + 4, payload.Length);
        for (var i = 0; i < payload.Length; i++)
        {
            body[i] = (byte)(payload[i] ^ mask[i & 3]);
        }

        return header + 4 + payload.Length;
    }

    /// <summary>Reads one whole frame from the start of <paramref name="data"/> (unmasked, as servers send).</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out int opcode, out ReadOnlySpan<byte> payload, out int consumed)
    {
        opcode = 0;
        payload = default;
        consumed = 0;
        if (data.Length < 2)
        {
            return false;
        }

        var length = (long)(data[1] & 0x7F);
        var header = 2;
        if (length == 126)
        {
            if (data.Length < 4)
            {
                return false;
            }

            length = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
            header = 4;
        }
        else if (length == 127)
        {
            if (data.Length < 10)
            {
                return false;
            }

            length = (long)BinaryPrimitives.ReadUInt64BigEndian(data[2..]);
            header = 10;
        }

        if (data.Length - header < length)
        {
            return false;
        }

        opcode = data[0] & 0x0F;
        payload = data.Slice(header, (int)length);
        consumed = header + (int)length;
        return true;
    }
}

/// <summary>Inflates RFC 7692 messages: the payload, then the 0x00 0x00 0xFF 0xFF its sender removed.</summary>
internal sealed class MessageInflater : IDisposable
{
    private readonly MemoryStream _input = new();
    private readonly DeflateStream _inflater;
    private byte[] _output = new byte[16 * 1024];

    public MessageInflater() => _inflater = new DeflateStream(_input, CompressionMode.Decompress);

    public ReadOnlySpan<byte> Inflate(ReadOnlySpan<byte> payload)
    {
        _input.SetLength(0);
        _input.Write(payload);
        _input.Write([0x00, 0x00, 0xFF, 0xFF]);
        _input.Position = 0;
        var length = 0;
        int read;
        while ((read = _inflater.Read(_output, length, _output.Length - length)) > 0)
        {
            length += read;
            if (length == _output.Length)
            {
                Array.Resize(ref _output, _output.Length * 2);
            }
        }

        return _output.AsSpan(0, length);
    }

    public void Dispose()
    {
        _inflater.Dispose();
        _input.Dispose();
    }
}
