using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using OrleansRooms;
using OrleansRooms.Grains.Gateways;
using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

// Quick gateway benchmarks, in one process, with real WebSocket clients on loopback (client and server share the
// machine, so the figures are lower bounds):
//   broadcast (default): N clients in one room, spread over G gateways (G > 1: an Orleans test cluster over TCP
//     loopback, broadcasts by --delivery DirectCall or Streams), M broadcasts of a fixed payload from the first
//     gateway; deliveries per second and process CPU time.
//   --fanout: gateway-to-gateway fan-out of --delivery, latency at light load and throughput saturated (FanOutBench.cs).
//   --reap: three gateways with the shipped membership settings; kill one (ungracefully) and time until its sockets
//     left their rooms.
//   --timers: the CPU the Engine.IO heartbeat scheduling costs at 10,000 and 20,000 sessions (TimerBench.cs);
//     --sockets N measures N sessions only, --seconds S sets each measurement's window (default 8).
//   --heartbeat, --slow-consumer: client-side measurements of ping times and of a member that never reads (ClientBench.cs).
var sockets = Arg("--sockets", 1000);
var messages = Arg("--messages", 2000);
var payloadSize = Arg("--payload", 100);
var gateways = Arg("--gateways", 1);
var inFlight = Arg("--in-flight", 64);
var delivery = Enum.Parse<GatewayDeliveryMode>(ArgText("--delivery", nameof(GatewayDeliveryMode.DirectCall)));

if (args.Contains("--fanout"))
{
    return await FanOutBench.RunAsync(delivery, messages);
}

if (args.Contains("--heartbeat"))
{
    return await ClientBench.HeartbeatAsync();
}

if (args.Contains("--slow-consumer"))
{
    return await ClientBench.SlowConsumerAsync();
}

if (args.Contains("--timers"))
{
    int[] counts = args.Contains("--sockets") ? [sockets] : [10_000, 20_000];
    return await TimerBench.RunAsync(counts, TimeSpan.FromSeconds(Arg("--seconds", 8)));
}

if (args.Contains("--reap"))
{
    return await ReapAsync(sockets);
}

await using IGatewayCluster cluster = gateways == 1 ? new SingleGatewayCluster() : new OrleansGatewayCluster(gateways, delivery);
await cluster.StartAsync();
foreach (var gateway in cluster.Gateways)
{
    gateway.Io.OnConnection(async socket => await socket.JoinAsync("bench"));
}

var clients = new BenchClient[sockets];
for (var i = 0; i < sockets; i++)
{
    clients[i] = await BenchClient.ConnectAsync(cluster.Gateways[i % gateways].Url);
}

var io = cluster.Gateways[0].Io;
while ((await io.Sockets.Adapter.GetRoomMembersAsync("bench")).Count < sockets)
{
    await Task.Delay(10);
}

var payload = new string('x', payloadSize);
var expected = (long)messages * sockets;
var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
var clock = Stopwatch.StartNew();
// Up to --in-flight broadcasts outstanding: in a cluster each one awaits its publish to Redis, and a sender that
// waited for each in turn would measure the round trip, not the throughput.
var pending = new Queue<Task>();
for (var i = 0; i < messages; i++)
{
    pending.Enqueue(io.To("bench").EmitAsync("m", payload).AsTask());
    if (pending.Count >= inFlight)
    {
        await pending.Dequeue();
    }

    if (i % 64 == 63)
    {
        // Open the loop a little: without any pause the sender starves the clients that share the two cores.
        await Task.Yield();
    }
}

await Task.WhenAll(pending);

while (BenchClient.Received < expected && clock.Elapsed < TimeSpan.FromMinutes(2))
{
    await Task.Delay(1);
}

clock.Stop();
var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
var delivered = BenchClient.Received;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"gateways={gateways} delivery={delivery} in-flight={inFlight} sockets={sockets} messages={messages} payload={payloadSize}B delivered={delivered}/{expected} " +
    $"time={clock.Elapsed.TotalSeconds:F2}s deliveries/s={delivered / clock.Elapsed.TotalSeconds:F0} cpu={cpu.TotalSeconds:F2}s"));

foreach (var client in clients)
{
    client.Abort();
    client.Dispose();
}

return delivered == expected ? 0 : 1;

static async Task<int> ReapAsync(int sockets)
{
    await using var cluster = new OrleansGatewayCluster(gateways: 3);
    await cluster.StartAsync();
    var doomed = cluster.Gateways[2];
    doomed.Io.OnConnection(async socket => await socket.JoinAsync("bench"));
    var clients = new List<BenchClient>();
    for (var i = 0; i < sockets; i++)
    {
        clients.Add(await BenchClient.ConnectAsync(doomed.Url));
    }

    var adapter = cluster.Gateways[0].Io.Sockets.Adapter;
    while ((await adapter.GetRoomMembersAsync("bench")).Count < sockets)
    {
        await Task.Delay(10);
    }

    var clock = Stopwatch.StartNew();
    await cluster.KillGatewayAsync(doomed);
    while ((await adapter.GetRoomMembersAsync("bench")).Count > 0)
    {
        await Task.Delay(10);
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"reap: {sockets} sockets of a killed gateway out of their rooms after {clock.Elapsed.TotalSeconds:F2}s (shipped membership settings)"));
    foreach (var client in clients)
    {
        client.Abort();
        client.Dispose();
    }

    return 0;
}

int Arg(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

string ArgText(string name, string fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}

internal sealed class BenchClient : IDisposable
{
    private static long s_received;
    private readonly ClientWebSocket _socket = new();

    public static long Received => Interlocked.Read(ref s_received);

    public static async Task<BenchClient> ConnectAsync(Uri gateway)
    {
        var client = new BenchClient();
        var url = new Uri(gateway.ToString().Replace("http", "ws", StringComparison.Ordinal).TrimEnd('/') + "/socket.io/?EIO=4&transport=websocket");
        await client._socket.ConnectAsync(url, CancellationToken.None);
        await client._socket.SendAsync("40"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        _ = client.ReceiveLoopAsync();
        return client;
    }

    public void Abort() => _socket.Abort();

    public void Dispose() => _socket.Dispose();

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[8192];
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                // Count event packets ("42..."); answer pings so a long run is not cut by the heartbeat.
                if (result.EndOfMessage && result.Count >= 2 && buffer[0] == (byte)'4' && buffer[1] == (byte)'2')
                {
                    Interlocked.Increment(ref s_received);
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
        catch (OperationCanceledException)
        {
        }
    }
}
