using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansRooms;

// Quick broadcast throughput: one in-process gateway, N raw WebSocket clients in one room, M broadcasts of a fixed
// payload; reports deliveries per second (wall clock) and the process CPU time. Client and server share the machine.
var sockets = Arg("--sockets", 1000);
var messages = Arg("--messages", 2000);
var payloadSize = Arg("--payload", 100);

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
builder.Services.AddSocketIO();
var app = builder.Build();
app.MapSocketIO();
var io = app.Services.GetRequiredService<SocketIOServer>();
io.OnConnection(async socket => await socket.JoinAsync("bench"));
await app.StartAsync();
var url = new Uri(app.Urls.First().Replace("http", "ws", StringComparison.Ordinal) + "/socket.io/?EIO=4&transport=websocket");

var clients = new BenchClient[sockets];
for (var i = 0; i < sockets; i++)
{
    clients[i] = await BenchClient.ConnectAsync(url);
}

while (io.Sockets.Adapter.Rooms.TryGetValue("bench", out var members) ? members.Count < sockets : true)
{
    await Task.Delay(10);
}

var payload = new string('x', payloadSize);
var expected = (long)messages * sockets;
var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
var clock = Stopwatch.StartNew();
for (var i = 0; i < messages; i++)
{
    await io.To("bench").EmitAsync("m", payload);
    if (i % 64 == 63)
    {
        // Open the loop a little: without any pause the sender starves the clients that share the two cores.
        await Task.Yield();
    }
}

while (BenchClient.Received < expected && clock.Elapsed < TimeSpan.FromMinutes(2))
{
    await Task.Delay(1);
}

clock.Stop();
var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
var delivered = BenchClient.Received;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"sockets={sockets} messages={messages} payload={payloadSize}B delivered={delivered}/{expected} " +
    $"time={clock.Elapsed.TotalSeconds:F2}s deliveries/s={delivered / clock.Elapsed.TotalSeconds:F0} cpu={cpu.TotalSeconds:F2}s"));

foreach (var client in clients)
{
    client.Abort();
    client.Dispose();
}

await app.StopAsync();
return delivered == expected ? 0 : 1;

int Arg(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

internal sealed class BenchClient : IDisposable
{
    private static long s_received;
    private readonly ClientWebSocket _socket = new();

    public static long Received => Interlocked.Read(ref s_received);

    public static async Task<BenchClient> ConnectAsync(Uri url)
    {
        var client = new BenchClient();
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
