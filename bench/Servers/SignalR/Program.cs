using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;

// The benchmark's tiny application on ASP.NET Core SignalR: a hub at /bench with Join(room) and Leave(room), whose
// completion is the ack, and Pub(room, payload) sending "msg" with the payload to the room's group. JSON protocol,
// WebSockets only (clients skip negotiation). Usage: --port 5004 [--redis 127.0.0.1:6379]: with --redis, one server of a
// cluster whose groups go through that Redis (Microsoft.AspNetCore.SignalR.StackExchangeRedis).
var port = int.Parse(Arg("--port") ?? "5004", CultureInfo.InvariantCulture);
var redis = Arg("--redis");

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
var signalR = builder.Services.AddSignalR();
if (redis is not null)
{
    signalR.AddStackExchangeRedis(redis);
}

var app = builder.Build();
app.MapHub<BenchHub>("/bench", o => o.Transports = HttpTransportType.WebSockets);
app.Run();

string? Arg(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

internal sealed class BenchHub : Hub
{
    public Task Join(string room) => Groups.AddToGroupAsync(Context.ConnectionId, room);

    public Task Leave(string room) => Groups.RemoveFromGroupAsync(Context.ConnectionId, room);

    public Task Pub(string room, string payload) => Clients.Group(room).SendAsync("msg", payload);
}
