using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using OrleansRooms;
using OrleansRooms.Host.Chat;
using OrleansRooms.Host.Operators;

var builder = WebApplication.CreateBuilder(args);

// Port 3000 on every interface, unless --urls, ASPNETCORE_URLS or ASPNETCORE_HTTP_PORTS say otherwise.
if (builder.Configuration["urls"] is null && builder.Configuration["http_ports"] is null)
{
    builder.WebHost.UseUrls("http://*:3000");
}

// Spans and metrics (docs/observability.md), exported only when asked: over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is
// set, to the console with OrleansRooms:Telemetry:Console=true.
var exportOtlp = !string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
var exportConsole = builder.Configuration.GetValue("OrleansRooms:Telemetry:Console", false);
if (exportOtlp || exportConsole)
{
    var telemetry = builder.Services.AddOpenTelemetry()
        .WithTracing(tracing =>
        {
            tracing.AddSource("OrleansRooms.Gateway", "Microsoft.Orleans.Runtime").AddAspNetCoreInstrumentation();
            if (exportConsole)
            {
                tracing.AddConsoleExporter();
            }
        })
        .WithMetrics(metrics =>
        {
            metrics.AddMeter("OrleansRooms.Gateway", "OrleansRooms.Recovery", "OrleansRooms.Silo");
            if (exportConsole)
            {
                metrics.AddConsoleExporter();
            }
        });
    if (exportOtlp)
    {
        telemetry.UseOtlpExporter();
    }

    // The grain calls of joins, leaves and connects, as children of their spans (on Microsoft.Orleans.Runtime: Orleans
    // counts the OrleansRooms.Grains interfaces as its own).
    builder.UseOrleans(silo => silo.AddActivityPropagation());
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

// The Socket.IO Admin UI's server side, when configured (SocketIO:AdminUI, docs/admin-ui.md); off by default.
if (builder.Configuration.GetSection(OrleansRooms.Admin.AdminUIOptions.SectionName).Exists())
{
    builder.Services.AddSocketIOAdminUI();
}

builder.Services.AddHealthChecks();

// The Orleans Dashboard is off unless Orleans:Dashboard:Enabled, and then admits authenticated users only
// (docs/orleans-dashboard.md). This demo can authenticate one operator with HTTP Basic: BasicAuthentication:UserName
// and BasicAuthentication:Password (keep the password out of appsettings.json: BasicAuthentication__Password=...).
if (builder.Configuration.GetSection(BasicAuthenticationOptions.SectionName).Exists())
{
    builder.Services.AddAuthentication(BasicAuthenticationHandler.SchemeName)
        .AddScheme<BasicAuthenticationOptions, BasicAuthenticationHandler>(BasicAuthenticationHandler.SchemeName, configureOptions: null);
    builder.Services.AddOptions<BasicAuthenticationOptions>(BasicAuthenticationHandler.SchemeName)
        .BindConfiguration(BasicAuthenticationOptions.SectionName)
        .Validate(o => o.UserName.Length > 0 && !o.UserName.Contains(':', StringComparison.Ordinal) && o.Password.Length > 0,
            "BasicAuthentication needs a UserName (without ':') and a Password.")
        .ValidateOnStart();
}

builder.Services.AddOptions<ChatOptions>().BindConfiguration("Chat").ValidateDataAnnotations().ValidateOnStart();

var app = builder.Build();

// A setting that keeps the gateway from starting (an unusable URL, a taken port, an invalid option, a membership Redis
// that does not answer) ends it here with one line on standard error, before the silo starts.
if (!app.CheckStartup())
{
    return HostStartupExtensions.StartupFailedExitCode;
}

app.UseDefaultFiles();
app.UseStaticFiles();

// The official client's browser bundle, installed by npm at build time (absent when run from another directory than
// the project or the publish output: the demo page then lacks its client, Socket.IO itself works).
var bundle = Path.Combine(app.Environment.ContentRootPath, "node_modules", "socket.io-client", "dist");
if (Directory.Exists(bundle))
{
    app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(bundle), RequestPath = "/vendor" });
}

// The Admin UI's page itself, from @socket.io/admin-ui's built files, at AdminUI:Path (such as /admin-ui) when set.
if (builder.Configuration["AdminUI:Path"] is { Length: > 0 } adminUIPath)
{
    var adminUI = Path.Combine(app.Environment.ContentRootPath, "node_modules", "@socket.io", "admin-ui", "ui", "dist");
    if (!Directory.Exists(adminUI))
    {
        throw new InvalidOperationException($"AdminUI:Path is set but the Admin UI's files are missing from {adminUI} (npm ci in the project installs them).");
    }

    var files = new PhysicalFileProvider(adminUI);
    var requestPath = "/" + adminUIPath.Trim('/');
    // The page loads its scripts relative to itself: the default-files middleware redirects /admin-ui to /admin-ui/.
    app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = requestPath });
    app.UseStaticFiles(new StaticFileOptions { FileProvider = files, RequestPath = requestPath });
}

// Liveness and readiness for load balancers and Kubernetes: healthy while the co-hosted silo is an active member of the
// cluster (health check orleansrooms-cluster, added by AddSocketIO).
app.MapHealthChecks("/healthz");

// The Orleans Dashboard at Orleans:Dashboard:Path (/orleans) when enabled; nothing there otherwise.
app.MapOrleansRoomsDashboard();

var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Chat");
var chat = app.Services.GetRequiredService<IOptions<ChatOptions>>().Value;

// Which gateway holds a user's connection matters in a cluster only: a lone gateway has no name to show, unless given one.
var gatewayName = chat.GatewayName?.Trim()
    ?? (builder.Configuration.GetSection("Orleans:Clustering").Exists()
        ? $"{Environment.MachineName}#{app.Services.GetRequiredService<Orleans.Runtime.ILocalSiloDetails>().SiloAddress.Endpoint}"
        : null);

app.MapSocketIO("/socket.io", io =>
{
    var rooms = new RoomDirectory(io.Sockets, chat.RoomListInterval, TimeProvider.System, log);
    app.Lifetime.ApplicationStopped.Register(rooms.Dispose);

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

        // One join at a time per client: the room cap is checked and the room joined together.
        var joins = new SemaphoreSlim(1, 1);
        socket.On("join", async e =>
        {
            if (ReadRoom(e) is not { } room)
            {
                e.Ack(new { ok = false, error = "invalid room name" });
                return;
            }

            await joins.WaitAsync();
            try
            {
                // A room named after a socket id is that socket's private room, on whichever gateway it is: not joinable.
                if (SocketIdShape().IsMatch(room) && (await io.Sockets.Adapter.GetSocketRoomsAsync(room)).Count > 0)
                {
                    e.Ack(new { ok = false, error = "invalid room name" });
                    return;
                }

                var joined = socket.Rooms;
                if (!joined.Contains(room) && joined.Count - 1 >= chat.MaxRoomsPerClient) // minus its private room
                {
                    e.Ack(new { ok = false, error = $"at most {chat.MaxRoomsPerClient} rooms per client: leave one first" });
                    return;
                }

                await socket.JoinAsync(room);
            }
            finally
            {
                joins.Release();
            }

            await socket.To(room).EmitAsync("joined", new { room, name });
            e.Ack(new { ok = true, room, members = await io.Sockets.Adapter.GetRoomMemberCountAsync(room) });
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
            await socket.To(room).EmitAsync("left", new { room, name });
            e.Ack(new { ok = true, room });
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

        socket.On("rooms", async e => e.Ack(await rooms.SnapshotAsync()));

        // Still in its rooms here: tell them who is leaving.
        socket.OnDisconnecting(async reason =>
        {
            foreach (var room in socket.Rooms)
            {
                if (room != socket.Id)
                {
                    await socket.To(room).EmitAsync("left", new { room, name });
                }
            }
        });

        socket.OnDisconnect(reason => ChatLog.Disconnected(log, name, reason));

        // Sent by the gateway that holds the socket, so it names that one even behind a load balancer.
        if (gatewayName is not null)
        {
            await socket.EmitAsync("gateway", new { name = gatewayName });
        }

        // The whole list once; every change after this arrives as "rooms:changed" (see RoomDirectory).
        await rooms.SendSnapshotAsync(socket);
    });

    // A gateway that died cannot say goodbye for its users: the gateway that takes their sockets out of their rooms raises
    // leave-room for each, for sockets it does not host. Tell those rooms (the counts follow through presence, see
    // RoomDirectory).
    io.Sockets.Adapter.LeaveRoom += (room, socketId) =>
    {
        if (room != socketId && !io.Sockets.Sockets.ContainsKey(socketId))
        {
            _ = AnnounceDepartureAsync(room, socketId);
        }
    };

    async Task AnnounceDepartureAsync(string room, string socketId)
    {
        try
        {
            await io.To(room).EmitAsync("left", new { room, id = socketId, name = (string?)null });
        }
        catch (Exception ex)
        {
            ChatLog.RoomListFailed(log, ex);
        }
    }
});

return app.RunChecked();

static string? ReadRoom(SocketEvent e)
{
    var room = e.Arguments.GetOrDefault<string>(0)?.Trim();
    return string.IsNullOrEmpty(room) || room.Length > 32 ? null : room;
}

internal sealed record Profile(string? Name);

internal static partial class Program
{
    // Socket.IO ids: 20 URL-safe base64 characters.
    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9_-]{20}$")]
    private static partial System.Text.RegularExpressions.Regex SocketIdShape();
}

internal sealed record ChatMessage(string? Room, string? Text);
