using Microsoft.Extensions.FileProviders;
using OrleansRooms;

var builder = WebApplication.CreateBuilder(args);

// Port 3000 on every interface, unless --urls, ASPNETCORE_URLS or ASPNETCORE_HTTP_PORTS say otherwise.
if (builder.Configuration["urls"] is null && builder.Configuration["http_ports"] is null)
{
    builder.WebHost.UseUrls("http://*:3000");
}

// The co-hosted Orleans silo that holds the rooms. A cluster configures its membership, for instance
// Orleans__Clustering__ProviderType=Redis and Orleans__Clustering__ConnectionString=host:6379 (docs/cluster.md); with
// none, the embedded default: this silo alone, on localhost (Orleans:Endpoints:SiloPort, default 11111).
builder.UseOrleans(silo =>
{
    if (!builder.Configuration.GetSection("Orleans:Clustering").Exists())
    {
        silo.UseLocalhostClustering(
            siloPort: builder.Configuration.GetValue("Orleans:Endpoints:SiloPort", 11111),
            gatewayPort: builder.Configuration.GetValue("Orleans:Endpoints:GatewayPort", 0));
    }

    silo.AddOrleansRooms();
});
builder.Services.AddSocketIO(); // options from the "SocketIO" section of appsettings.json

builder.Services.AddHealthChecks();

var app = builder.Build();

app.UseDefaultFiles();
app.UseStaticFiles();

// The official client's browser bundle, installed by npm at build time (absent when run from another directory than
// the project or the publish output: the demo page then lacks its client, Socket.IO itself works).
var bundle = Path.Combine(app.Environment.ContentRootPath, "node_modules", "socket.io-client", "dist");
if (Directory.Exists(bundle))
{
    app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(bundle), RequestPath = "/vendor" });
}

// Liveness and readiness for load balancers and Kubernetes: it answers once the co-hosted silo is active in the
// cluster (the silo starts before Kestrel listens) and for as long as the process runs (a silo declared dead stops it).
app.MapHealthChecks("/healthz");

var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Chat");

app.MapSocketIO("/socket.io", io =>
{
    // Room counts and membership come from the room grains: the whole cluster, not only this gateway.
    var adapter = io.Of("/").Adapter;

    // Everyone picks a name before connecting: `io({ auth: { name } })`.
    io.Use(async (socket, next) =>
    {
        var name = socket.Handshake.GetAuth<Profile>()?.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 24)
        {
            throw new ConnectionRejectedException("invalid name", new { hint = "1 to 24 characters" });
        }

        socket.Data["name"] = name;
        await next();
    });

    io.OnConnection(async socket =>
    {
        var name = (string)socket.Data["name"]!;
        ChatLog.Connected(log, name, socket.Id);

        socket.On("join", async e =>
        {
            // A room named after a socket id is that socket's private room, on whichever gateway: not joinable.
            if (ReadRoom(e) is not { } room || await IsPrivateRoomAsync(room))
            {
                e.Ack(new { ok = false, error = "invalid room name" });
                return;
            }

            await socket.JoinAsync(room);
            await socket.To(room).EmitAsync("joined", new { room, name });
            e.Ack(new { ok = true, room, members = (await adapter.GetRoomMembersAsync(room)).Count });
            await io.EmitAsync("rooms", await RoomCountsAsync());
            ChatLog.Joined(log, name, room);
        });

        socket.On("leave", async e =>
        {
            if (ReadRoom(e) is not { } room || room == socket.Id || !socket.Rooms.Contains(room))
            {
                e.Ack(new { ok = false, error = "not in that room" });
                return;
            }

            await socket.LeaveAsync(room);
            await socket.To(room).EmitAsync("left", new { room, id = socket.Id, name });
            e.Ack(new { ok = true, room });
            await io.EmitAsync("rooms", await RoomCountsAsync());
        });

        socket.On("chat", async e =>
        {
            var message = e.Arguments.GetOrDefault<ChatMessage>(0);
            var text = message?.Text?.Trim();
            if (message?.Room is not { } room || !socket.Rooms.Contains(room) || string.IsNullOrEmpty(text) || text.Length > 500)
            {
                e.Ack(new { ok = false, error = "join the room and say something (at most 500 characters)" });
                return;
            }

            var at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            await socket.To(room).EmitAsync("chat", new { room, name, text, at });
            e.Ack(new { ok = true, at });
        });

        socket.On("rooms", async e => e.Ack(await RoomCountsAsync()));

        // Still in its rooms here: tell them who is leaving.
        socket.OnDisconnecting(async reason =>
        {
            foreach (var room in socket.Rooms)
            {
                if (room != socket.Id)
                {
                    await socket.To(room).EmitAsync("left", new { room, id = socket.Id, name });
                }
            }
        });

        socket.OnDisconnect(async reason =>
        {
            ChatLog.Disconnected(log, name, reason);
            await io.EmitAsync("rooms", await RoomCountsAsync());
        });

        await socket.EmitAsync("rooms", await RoomCountsAsync());
    });

    // A gateway that died cannot say goodbye for its users: the gateway that takes their sockets out of their rooms
    // raises leave-room for each (a socket this gateway does not host). Tell the room, and send everyone new counts.
    var recountQueued = 0;
    adapter.LeaveRoom += (room, socketId) =>
    {
        if (!io.Sockets.Sockets.ContainsKey(socketId))
        {
            _ = AnnounceDepartureAsync(room, socketId);
        }
    };

    async Task AnnounceDepartureAsync(string room, string socketId)
    {
        try
        {
            if (room != socketId)
            {
                await io.To(room).EmitAsync("left", new { room, id = socketId, name = (string?)null });
            }

            // One recount for a burst of departures: those raised meanwhile find it queued.
            if (Interlocked.Exchange(ref recountQueued, 1) == 0)
            {
                await Task.Yield();
                Volatile.Write(ref recountQueued, 0);
                await io.EmitAsync("rooms", await RoomCountsAsync());
            }
        }
        catch (Exception ex)
        {
            ChatLog.DepartureFailed(log, ex);
        }
    }

    // A socket's own room holds that socket: a connected socket's id, on any gateway.
    async Task<bool> IsPrivateRoomAsync(string room) =>
        io.Sockets.Sockets.ContainsKey(room) || (await adapter.GetRoomMembersAsync(room)).Contains(room);

    // Every room of the cluster but the private ones named after a socket id, with its number of members.
    async Task<Dictionary<string, int>> RoomCountsAsync()
    {
        var names = adapter.GetRoomNamesAsync().AsTask();
        var sockets = new HashSet<string>(await adapter.GetSocketIdsAsync(), StringComparer.Ordinal);
        var rooms = (await names).Where(room => !sockets.Contains(room)).ToArray();
        var members = await Task.WhenAll(rooms.Select(room => adapter.GetRoomMembersAsync(room).AsTask()));
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < rooms.Length; i++)
        {
            if (members[i].Count > 0)
            {
                counts[rooms[i]] = members[i].Count;
            }
        }

        return counts;
    }
});

app.Run();

static string? ReadRoom(SocketEvent e)
{
    var room = e.Arguments.GetOrDefault<string>(0)?.Trim();
    return string.IsNullOrEmpty(room) || room.Length > 32 ? null : room;
}

internal sealed record Profile(string? Name);

internal sealed record ChatMessage(string? Room, string? Text);

internal static partial class ChatLog
{
    [LoggerMessage(1, LogLevel.Information, "{Name} connected as {SocketId}.")]
    public static partial void Connected(ILogger logger, string name, string socketId);

    [LoggerMessage(2, LogLevel.Information, "{Name} joined {Room}.")]
    public static partial void Joined(ILogger logger, string name, string room);

    [LoggerMessage(3, LogLevel.Information, "{Name} disconnected: {Reason}.")]
    public static partial void Disconnected(ILogger logger, string name, string reason);

    [LoggerMessage(4, LogLevel.Warning, "Could not tell a room that a member of a lost gateway left.")]
    public static partial void DepartureFailed(ILogger logger, Exception exception);
}
