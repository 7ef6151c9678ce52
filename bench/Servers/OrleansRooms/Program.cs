using System.Globalization;
using System.Net;
using OrleansRooms;

// The benchmark's tiny application on OrleansRooms: namespace "/", join(room, ack), leave(room, ack),
// pub(room, payload) broadcasting "msg" to the room. WebSocket only, like the Node peer.
// Usage: --port 5001 [--redis 127.0.0.1:6379]: with --redis, a gateway of a cluster whose Orleans membership is in that
// Redis; its silo listens on port + 10000. --recovery: with connection state recovery on (bench/recovery). --deflate: with
// permessage-deflate offered (its defaults: threshold 1024, Optimal level). --ping-interval 5: pingInterval in seconds
// (25 by default), so that a step of the load generator holds heartbeat bursts.
var port = int.Parse(Arg("--port") ?? "5001", CultureInfo.InvariantCulture);
var redis = Arg("--redis");

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
builder.UseOrleans(silo =>
{
    if (redis is null)
    {
        silo.UseLocalhostClustering(siloPort: port + 10000, gatewayPort: 0);
    }
    else
    {
        silo.UseRedisClustering(redis);
        silo.ConfigureEndpoints(IPAddress.Loopback, siloPort: port + 10000, gatewayPort: 0);
        silo.Configure<Orleans.Configuration.ClusterOptions>(o => (o.ClusterId, o.ServiceId) = ("bench", "bench"));
    }

    silo.AddOrleansRooms();
});
var recovery = args.Contains("--recovery");
builder.Services.AddSocketIO(o =>
{
    o.Transports = SocketIOTransports.WebSocket;
    o.ConnectionStateRecovery = recovery ? new OrleansRooms.Grains.Recovery.ConnectionStateRecoveryOptions() : null;
    o.PerMessageDeflate = args.Contains("--deflate") ? new OrleansRooms.Engine.PerMessageDeflateOptions() : null;
    if (Arg("--ping-interval") is { } pingInterval)
    {
        o.PingInterval = TimeSpan.FromSeconds(double.Parse(pingInterval, CultureInfo.InvariantCulture));
    }
});

var app = builder.Build();
app.MapSocketIO("/socket.io", io =>
{
    io.OnConnection(socket =>
    {
        socket.On("join", async e =>
        {
            await socket.JoinAsync(e.Get<string>(0)!);
            e.Ack();
        });
        socket.On("leave", async e =>
        {
            await socket.LeaveAsync(e.Get<string>(0)!);
            e.Ack();
        });
        socket.On("pub", async e => await io.To(e.Get<string>(0)!).EmitAsync("msg", e.Get<string>(1)));
    });
});

app.Run();

string? Arg(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
