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
//   --scale: a room of --members simulated sockets (default 100,000) over three gateways, then as many rooms: connects,
//     joins and leaves per second, broadcast latency to the room, managed memory per member and per room (ScaleBench.cs).
//   --recovery-replay, --recovery-restart: connection state recovery: the replay of --missed packets through another
//     gateway, and --sockets clients recovering after their gateway's clean stop (RecoveryBench.cs).
//   --room-storage: what persisting each join and leave in Redis would cost (RoomStorageBench.cs), for comparison.
//   --reap: three gateways with the shipped membership settings; one with --sockets simulated sockets (default 20,000)
//     in --rooms rooms (default 2,000) is killed, and the time until every room is clean is measured.
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

if (args.Contains("--recovery-replay"))
{
    return await RecoveryBench.ReplayAsync(Arg("--missed", 1000), Arg("--runs", 10));
}

if (args.Contains("--recovery-restart"))
{
    return await RecoveryBench.RestartAsync(Arg("--sockets", 10_000));
}

if (args.Contains("--recovery-clients"))
{
    return await RecoveryBench.ClientsAsync(Arg("--sockets", 10_000), new Uri(ArgText("--url", "")), [.. ArgText("--survivors", "").Split(',').Select(u => new Uri(u))]);
}

if (args.Contains("--scale"))
{
    return await ScaleBench.RunAsync(Arg("--members", 100_000), Arg("--broadcasts", 50), inFlight, Arg("--churn-seconds", 0), Arg("--gateways", 3));
}

if (args.Contains("--room-storage"))
{
    return await RoomStorageBench.RunAsync(Arg("--writes", 200_000), inFlight);
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
    return await ReapAsync(Arg("--sockets", 20_000), Arg("--rooms", 2_000));
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

// A gateway with `sockets` simulated sockets in `rooms` rooms (and a member of each room on another gateway) is killed;
// the time until every room's grain, seen from a survivor, has only the survivors' members again.
static async Task<int> ReapAsync(int sockets, int rooms)
{
    await using var cluster = new OrleansGatewayCluster(gateways: 3);
    await cluster.StartAsync();
    var doomed = cluster.Gateways[2];
    var survivor = cluster.Gateways[0];
    var joined = new System.Collections.Concurrent.ConcurrentQueue<Socket>();
    doomed.Io.OnConnection(joined.Enqueue);
    var names = Enumerable.Range(0, rooms).Select(i => "reap-" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
    var staying = SimulatedSockets.For(survivor.Io);
    var stayers = new System.Collections.Concurrent.ConcurrentQueue<Socket>();
    survivor.Io.OnConnection(stayers.Enqueue);
    await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (room, _) => await staying.ConnectAsync());
    var stayerList = stayers.ToArray();
    await Parallel.ForEachAsync(Enumerable.Range(0, rooms), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, _) => await stayerList[i].JoinAsync(names[i]));

    var dying = SimulatedSockets.For(doomed.Io);
    await Parallel.ForEachAsync(Enumerable.Range(0, sockets), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (_, _) => await dying.ConnectAsync());
    var doomedSockets = joined.ToArray();
    await Parallel.ForEachAsync(Enumerable.Range(0, sockets), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, _) => await doomedSockets[i].JoinAsync(names[i % rooms]));

    var adapter = survivor.Io.Sockets.Adapter;
    var first = await adapter.GetRoomMemberCountAsync(names[0]);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"reap: {sockets:N0} sockets of gateway 3 in {rooms:N0} rooms, {first} members in the first"));
    var clock = Stopwatch.StartNew();
    await cluster.KillGatewayAsync(doomed);
    var killed = clock.Elapsed;
    while (true)
    {
        var counts = await Task.WhenAll(names.Select(room => adapter.GetRoomMemberCountAsync(room).AsTask()));
        if (counts.All(count => count == 1))
        {
            break;
        }

        if (clock.Elapsed > TimeSpan.FromMinutes(2))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"reap: not clean after 2 minutes; {counts.Count(c => c != 1)} rooms still counted the dead gateway's sockets"));
            return 1;
        }

        await Task.Delay(10);
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"reap: every room clean, seen from a survivor, {clock.Elapsed.TotalSeconds:F2} s after the kill (the kill itself took {killed.TotalSeconds:F2} s; shipped membership settings)"));
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
