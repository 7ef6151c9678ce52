using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansRooms.Silo.Emitter;
using OrleansRooms.TestCluster;

// The two emitters' throughput, in one process on loopback (client, gateways and emitter share the machine, so the
// figures are lower bounds):
//   --official (default): one gateway listening to a real redis-server; redis-server publishes --messages copies of
//     a message captured from the official @socket.io/redis-emitter (emit "m" with a 100-character string to the
//     whole namespace) as fast as it can (Lua loops); how fast the gateway decodes them and hands them to its inbox,
//     and how fast its one socket receives them (--no-socket: no socket, the listener alone).
//   --csharp: three gateways on an Orleans test cluster, one socket on each in room "bench"; the C# SocketIOEmitter on
//     the test cluster's client emits --messages events to the room (--in-flight outstanding) through IEmitterGrain;
//     emits per second, and deliveries to the three sockets (--all: to the whole namespace, no room lookup).
var messages = Arg("--messages", 100_000);
var inFlight = Arg("--in-flight", 64);
return args.Contains("--csharp") ? await CSharpAsync() : await OfficialAsync();

async Task<int> OfficialAsync()
{
    // Captured from @socket.io/redis-emitter 5.1.0: new Emitter(client).emit("m", "x".repeat(100)) on socket.io#/#.
    const string Captured = "93a7656d697474657283a47479706502a46461746192a16dd964" + "78787878787878787878787878787878787878787878787878"
        + "78787878787878787878787878787878787878787878787878" + "78787878787878787878787878787878787878787878787878"
        + "78787878787878787878787878787878787878787878787878" + "a36e7370a12f83a5726f6f6d7390a5666c61677380a665786365707490";
    await using var redis = await RedisServer.StartAsync();
    var builder = WebApplication.CreateSlimBuilder();
    builder.Logging.ClearProviders();
    builder.Configuration["SocketIO:Emitter:Redis"] = redis.ConnectionString;
    builder.Configuration["SocketIO:Emitter:MaxBacklog"] = int.MaxValue.ToString(CultureInfo.InvariantCulture);
    builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
    builder.UseOrleans(silo => silo.UseLocalhostClustering(siloPort: OrleansRooms.Specification.TestSilo.FreePort(), gatewayPort: 0, serviceId: "bench", clusterId: "bench").AddOrleansRooms());
    builder.Services.AddSocketIO();
    await using var app = builder.Build();
    app.MapSocketIO();
    await app.StartAsync();

    using var decoded = new CounterWatch("OrleansRooms.Silo", "orleansrooms.emitter.messages.received");
    // --no-socket: nobody to deliver to, so what is measured is the listener (read, decode, hand over).
    var client = args.Contains("--no-socket") ? null : await CountingClient.ConnectAsync(new Uri(app.Urls.First()));
    var payload = Convert.FromHexString(Captured);
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var clock = Stopwatch.StartNew();
    for (var sent = 0; sent < messages; sent += 10_000)
    {
        await redis.SendAsync("EVAL", "for i = 1, tonumber(ARGV[3]) do redis.call('PUBLISH', ARGV[1], ARGV[2]) end", 0, "socket.io#/#", payload, Math.Min(10_000, messages - sent));
    }

    var published = clock.Elapsed;
    await WaitAsync(() => decoded.Total >= messages);
    var decodeTime = clock.Elapsed;
    await WaitAsync(() => client is null || client.Received >= messages);
    var deliverTime = clock.Elapsed;
    cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
    Report($"official emitter: {messages} messages of {payload.Length} bytes published in {published.TotalSeconds:F2} s; " +
        $"decoded and handed over by the gateway in {decodeTime.TotalSeconds:F2} s = {messages / decodeTime.TotalSeconds:F0} msg/s; " +
        (client is null ? "no socket; " : $"received by its socket in {deliverTime.TotalSeconds:F2} s = {client.Received / deliverTime.TotalSeconds:F0} msg/s; ") +
        $"process CPU {cpu.TotalMicroseconds / messages:F1} µs per message");
    if (client is not null)
    {
        await client.DisposeAsync();
    }

    return 0;
}

async Task<int> CSharpAsync()
{
    await using var cluster = new OrleansGatewayCluster(gateways: 3);
    await cluster.StartAsync();
    var clients = new List<CountingClient>();
    foreach (var gateway in cluster.Gateways)
    {
        gateway.Io.OnConnection(async socket => await socket.JoinAsync("bench"));
        clients.Add(await CountingClient.ConnectAsync(gateway.Url));
    }

    var adapter = cluster.Gateways[0].Io.Sockets.Adapter;
    await WaitAsync(() => adapter.GetRoomMembersAsync("bench").AsTask().Result.Count == clients.Count);
    var emitter = new SocketIOEmitter(cluster.Orleans.Client);
    var toAll = args.Contains("--all");
    var payload = new string('x', 100);
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var clock = Stopwatch.StartNew();
    var pending = new Queue<Task>();
    for (var i = 0; i < messages; i++)
    {
        pending.Enqueue(toAll ? emitter.EmitAsync("m", payload).AsTask() : emitter.To("bench").EmitAsync("m", payload).AsTask());
        if (pending.Count >= inFlight)
        {
            await pending.Dequeue();
        }
    }

    await Task.WhenAll(pending);
    var emitted = clock.Elapsed;
    await WaitAsync(() => clients.Sum(c => c.Received) >= (long)messages * clients.Count);
    var delivered = clock.Elapsed;
    cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
    Report($"C# emitter: {messages} emits to {(toAll ? "the whole namespace" : "a room")} with a member on each of 3 gateways ({inFlight} in flight) in {emitted.TotalSeconds:F2} s = " +
        $"{messages / emitted.TotalSeconds:F0} emits/s; {clients.Sum(c => c.Received)} deliveries in {delivered.TotalSeconds:F2} s; " +
        $"process CPU (client, 3 gateways, sockets) {cpu.TotalMicroseconds / messages:F1} µs per emit");
    foreach (var client in clients)
    {
        await client.DisposeAsync();
    }

    return 0;
}

static async Task WaitAsync(Func<bool> done)
{
    var deadline = Stopwatch.StartNew();
    while (!done())
    {
        if (deadline.Elapsed > TimeSpan.FromMinutes(3))
        {
            throw new TimeoutException("The benchmark did not finish within 3 minutes.");
        }

        await Task.Delay(1);
    }
}

static void Report(string line) => Console.WriteLine(line);

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

/// <summary>A raw Engine.IO/Socket.IO client over WebSocket that counts the events it receives and answers pings.</summary>
internal sealed class CountingClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private Task _loop = Task.CompletedTask;
    private long _received;

    public long Received => Interlocked.Read(ref _received);

    public static async Task<CountingClient> ConnectAsync(Uri gateway)
    {
        var client = new CountingClient();
        await client._socket.ConnectAsync(new UriBuilder(gateway) { Scheme = "ws", Path = "/socket.io/", Query = "EIO=4&transport=websocket" }.Uri, CancellationToken.None);
        await client._socket.SendAsync("40"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        client._loop = client.ReadAsync();
        return client;
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                if (result.EndOfMessage && result.Count >= 2 && buffer[0] == (byte)'4' && buffer[1] == (byte)'2')
                {
                    Interlocked.Increment(ref _received);
                }
                else if (result.Count == 1 && buffer[0] == (byte)'2')
                {
                    await _socket.SendAsync(Encoding.ASCII.GetBytes("3"), WebSocketMessageType.Text, true, CancellationToken.None);
                }
            }
        }
        catch (WebSocketException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        catch (WebSocketException)
        {
        }

        await _loop;
        _socket.Dispose();
    }
}

/// <summary>Sums a counter of the process's meters.</summary>
internal sealed class CounterWatch : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _total;

    public CounterWatch(string meter, string instrument)
    {
        _listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == meter && i.Name == instrument)
            {
                l.EnableMeasurementEvents(i);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
        _listener.Start();
    }

    public long Total => Interlocked.Read(ref _total);

    public void Dispose() => _listener.Dispose();
}
