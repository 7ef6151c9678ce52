using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

// The ceiling: Kestrel with its own RFC 6455 framing over the HTTP upgrade and just enough Engine.IO/Socket.IO to talk to the load generator (open packet,
// "40" connect, join/leave with acks, pub). No parser, no JSON, no heartbeat: a pub's payload is copied once into
// the outgoing `42["msg","..."]` message and the same bytes go to every member. Usage: --port 5003
var port = int.Parse(Array.IndexOf(args, "--port") is var i and >= 0 ? args[i + 1] : "5003", CultureInfo.InvariantCulture);
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
var app = builder.Build();
var rooms = new ConcurrentDictionary<string, Room>();
long nextId = 0;

app.Map("/socket.io/", async context =>
{
    var stream = await AcceptAsync(context);
    if (stream is null)
    {
        context.Response.StatusCode = 400;
        return;
    }

    var conn = new Conn(stream);
    var sid = Interlocked.Increment(ref nextId).ToString("x16", CultureInfo.InvariantCulture);
    conn.Send(Frame(Encoding.ASCII.GetBytes($"0{{\"sid\":\"{sid}\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}}")));
    var joined = new HashSet<string>();
    var input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, useZeroByteReads: true));
    try
    {
        while (true)
        {
            var result = await input.ReadAsync();
            var buffer = result.Buffer;
            while (ClientFrame.TryRead(ref buffer, out var opcode, out var payload))
            {
                if (opcode == 8)
                {
                    return;
                }

                if (opcode == 1)
                {
                    Handle(conn, joined, payload, sid);
                }
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }
    catch (IOException)
    {
    }
    finally
    {
        foreach (var name in joined)
        {
            if (rooms.TryGetValue(name, out var room))
            {
                room.Remove(conn);
            }
        }

        conn.Complete();
        await input.CompleteAsync();
    }
});

app.Run();

static async Task<Stream?> AcceptAsync(HttpContext context)
{
    var upgrade = context.Features.Get<IHttpUpgradeFeature>();
    var key = context.Request.Headers.SecWebSocketKey.ToString();
    if (upgrade is not { IsUpgradableRequest: true } || key.Length == 0)
    {
        return null;
    }

#pragma warning disable CA5350 // RFC 6455 defines the accept value with SHA-1
    var hash = SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
#pragma warning restore CA5350
    context.Response.Headers.Connection = "Upgrade";
    context.Response.Headers.Upgrade = "websocket";
    context.Response.Headers.SecWebSocketAccept = Convert.ToBase64String(hash);
    context.Features.Get<IHttpMinRequestBodyDataRateFeature>()!.MinDataRate = null;
    return await upgrade.UpgradeAsync();
}

void Handle(Conn conn, HashSet<string> joined, ReadOnlySpan<byte> m, string sid)
{
    if (m.Length == 2 && m[0] == '4' && m[1] == '0')
    {
        conn.Send(Frame(Encoding.ASCII.GetBytes($"40{{\"sid\":\"{sid}\"}}")));
        return;
    }

    if (m.Length < 4 || m[0] != '4' || m[1] != '2')
    {
        return; // "3" pongs and anything else
    }

    // 42[ack id]["event","room"(,"payload")]
    var p = 2;
    while (m[p] is >= (byte)'0' and <= (byte)'9')
    {
        p++;
    }

    var ackId = m[2..p];
    var rest = m[p..];
    var nameStart = rest.IndexOf((byte)'"') + 1;
    var nameEnd = nameStart + rest[nameStart..].IndexOf((byte)'"');
    var eventName = rest[nameStart..nameEnd];
    var roomStart = nameEnd + 3; // ","
    var roomEnd = roomStart + rest[roomStart..].IndexOf((byte)'"');
    var roomName = Encoding.UTF8.GetString(rest[roomStart..roomEnd]);
    if (eventName.SequenceEqual("pub"u8))
    {
        if (rooms.TryGetValue(roomName, out var room))
        {
            // rest[roomEnd..] is `","payload"]`: the outgoing message is `42["msg"` + that.
            var tail = rest[(roomEnd + 1)..];
            room.Broadcast(Frame([.. "42[\"msg\""u8, .. tail]));
        }

        return;
    }

    if (eventName.SequenceEqual("join"u8) && joined.Add(roomName))
    {
        rooms.GetOrAdd(roomName, _ => new Room()).Add(conn);
    }
    else if (eventName.SequenceEqual("leave"u8) && joined.Remove(roomName) && rooms.TryGetValue(roomName, out var room))
    {
        room.Remove(conn);
    }

    if (!ackId.IsEmpty)
    {
        conn.Send(Frame([.. "43"u8, .. ackId, .. "[]"u8]));
    }
}

static byte[] Frame(ReadOnlySpan<byte> text)
{
    var header = text.Length < 126 ? 2 : 4; // the load generator's messages stay under 64 KB
    var frame = new byte[header + text.Length];
    frame[0] = 0x81;
    if (header == 2)
    {
        frame[1] = (byte)text.Length;
    }
    else
    {
        frame[1] = 126;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)text.Length);
    }

    text.CopyTo(frame.AsSpan(header));
    return frame;
}

internal sealed class Room
{
    private Conn[] _members = [];

    public void Add(Conn conn)
    {
        lock (this)
        {
            _members = [.. _members, conn];
        }
    }

    public void Remove(Conn conn)
    {
        lock (this)
        {
            _members = [.. _members.Where(c => c != conn)];
        }
    }

    public void Broadcast(byte[] message)
    {
        foreach (var member in Volatile.Read(ref _members))
        {
            member.Send(message);
        }
    }
}

/// <summary>
/// One connection's output, written on the sender's thread: a broadcast copies its frame into each member's pipe and
/// flushes it there, with no thread hop per member. Frames sent while a flush is still pending (a slow reader) wait
/// in a backlog that the end of that flush writes in one go.
/// </summary>
internal sealed class Conn(Stream stream)
{
    private readonly Lock _lock = new();
    private readonly PipeWriter _output = PipeWriter.Create(stream);
    private readonly List<byte[]> _backlog = [];
    private bool _flushing;
    private bool _closed;

    /// <summary>Sends one frame, already framed (the same bytes for every member of a broadcast).</summary>
    public void Send(byte[] frame)
    {
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            if (_flushing)
            {
                _backlog.Add(frame);
                return;
            }

            _output.Write(frame);
            var flush = _output.FlushAsync();
            if (!flush.IsCompletedSuccessfully)
            {
                _flushing = true;
                _ = DrainAsync(flush);
            }
        }
    }

    public void Complete()
    {
        lock (_lock)
        {
            _closed = true;
            if (!_flushing)
            {
                _output.Complete();
            }
        }
    }

    private async Task DrainAsync(ValueTask<FlushResult> flush)
    {
        while (true)
        {
            try
            {
                await flush;
            }
            catch (IOException)
            {
            }
            catch (ObjectDisposedException)
            {
            }

            lock (_lock)
            {
                if (_closed || _backlog.Count == 0)
                {
                    _flushing = false;
                    if (_closed)
                    {
                        _output.Complete();
                    }

                    return;
                }

                foreach (var frame in _backlog)
                {
                    _output.Write(frame);
                }

                _backlog.Clear();
                flush = _output.FlushAsync();
                if (flush.IsCompletedSuccessfully)
                {
                    _flushing = false;
                    return;
                }
            }
        }
    }
}

/// <summary>RFC 6455 framing, just what the load generator sends and expects.</summary>
internal static class ClientFrame
{
    /// <summary>One whole masked client frame from the start of <paramref name="buffer"/>, unmasked into a new array.</summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out int opcode, out byte[] payload)
    {
        opcode = 0;
        payload = [];
        Span<byte> header = stackalloc byte[14];
        if (buffer.Length < 2)
        {
            return false;
        }

        buffer.Slice(0, Math.Min(14, buffer.Length)).CopyTo(header);
        long length = header[1] & 0x7F;
        var size = 2;
        if (length == 126)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(header[2..]);
            size = 4;
        }
        else if (length == 127)
        {
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(header[2..]);
            size = 10;
        }

        if (buffer.Length < size + 4 + length)
        {
            return false;
        }

        var mask = header.Slice(size, 4).ToArray();
        payload = buffer.Slice(size + 4, length).ToArray();
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] ^= mask[i & 3];
        }

        opcode = header[0] & 0x0F;
        buffer = buffer.Slice(size + 4 + length);
        return true;
    }
}
