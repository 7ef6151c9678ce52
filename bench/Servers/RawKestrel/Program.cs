using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;

// The ceiling: Kestrel WebSockets with just enough Engine.IO/Socket.IO to talk to the load generator (open packet,
// "40" connect, join/leave with acks, pub). No parser, no JSON, no heartbeat: a pub's payload is copied once into
// the outgoing `42["msg","..."]` message and the same bytes go to every member. Usage: --port 5003
var port = int.Parse(Array.IndexOf(args, "--port") is var i and >= 0 ? args[i + 1] : "5003", CultureInfo.InvariantCulture);
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
var app = builder.Build();
app.UseWebSockets();
var rooms = new ConcurrentDictionary<string, Room>();
long nextId = 0;

app.Map("/socket.io/", async context =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = 400;
        return;
    }

    using var ws = await context.WebSockets.AcceptWebSocketAsync();
    var conn = new Conn(ws);
    var sid = Interlocked.Increment(ref nextId).ToString("x16", CultureInfo.InvariantCulture);
    conn.Send(Encoding.ASCII.GetBytes($"0{{\"sid\":\"{sid}\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}}"));
    var writer = conn.WriteLoopAsync();
    var joined = new HashSet<string>();
    var buffer = new byte[64 * 1024];
    try
    {
        while (true)
        {
            var count = 0;
            ValueWebSocketReceiveResult r;
            do
            {
                r = await ws.ReceiveAsync(buffer.AsMemory(count), default);
                count += r.Count;
            }
            while (!r.EndOfMessage && count < buffer.Length);
            if (r.MessageType == WebSocketMessageType.Close)
            {
                break;
            }

            Handle(conn, joined, buffer.AsSpan(0, count), sid);
        }
    }
    catch (WebSocketException)
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
        await writer;
    }
});

app.Run();

void Handle(Conn conn, HashSet<string> joined, ReadOnlySpan<byte> m, string sid)
{
    if (m.Length == 2 && m[0] == '4' && m[1] == '0')
    {
        conn.Send(Encoding.ASCII.GetBytes($"40{{\"sid\":\"{sid}\"}}"));
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
            var message = new byte[8 + tail.Length];
            "42[\"msg\""u8.CopyTo(message);
            tail.CopyTo(message.AsSpan(8));
            room.Broadcast(message);
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
        conn.Send([.. "43"u8, .. ackId, .. "[]"u8]);
    }
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

internal sealed class Conn(WebSocket ws)
{
    private readonly Channel<byte[]> _queue = Channel.CreateUnbounded<byte[]>(new() { SingleReader = true });

    public void Send(byte[] message) => _queue.Writer.TryWrite(message);

    public void Complete() => _queue.Writer.TryComplete();

    public async Task WriteLoopAsync()
    {
        try
        {
            while (await _queue.Reader.WaitToReadAsync())
            {
                while (_queue.Reader.TryRead(out var message))
                {
                    await ws.SendAsync(message, WebSocketMessageType.Text, true, default);
                }
            }
        }
        catch (WebSocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
