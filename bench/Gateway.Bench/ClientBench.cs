using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using OrleansRooms;
using OrleansRooms.Specification;

/// <summary>
/// Client-side measurements that use only the public API, so they build against older versions of the gateway too:
///   --heartbeat: pingInterval 300 ms, pingTimeout 200 ms. When the pings of an answering client arrive (ms after the
///     open packet, the first second), and when a silent client's connection is closed.
///   --slow-consumer: one room member that never reads while 2,000 broadcasts/s of 480 characters flow for 10 s;
///     the managed heap each second, and whether and when the member was disconnected.
/// </summary>
internal static class ClientBench
{
    public static async Task<int> HeartbeatAsync()
    {
        await using var node = await GatewayNode.StartAsync(configureOptions: o =>
        {
            o.PingInterval = TimeSpan.FromMilliseconds(300);
            o.PingTimeout = TimeSpan.FromMilliseconds(200);
        });
        var url = new Uri(node.Url.ToString().Replace("http", "ws", StringComparison.Ordinal).TrimEnd('/') + "/socket.io/?EIO=4&transport=websocket");

        for (var run = 0; run < 3; run++)
        {
            using var answering = new ClientWebSocket();
            await answering.ConnectAsync(url, CancellationToken.None);
            await ReceiveAsync(answering);
            var clock = Stopwatch.StartNew();
            var pings = new List<double>();
            while (clock.Elapsed < TimeSpan.FromMilliseconds(1000))
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(1000) - clock.Elapsed);
                try
                {
                    if (await ReceiveAsync(answering, timeout.Token) == "2")
                    {
                        pings.Add(clock.Elapsed.TotalMilliseconds);
                        await answering.SendAsync("3"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
                    }
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            using var silent = new ClientWebSocket();
            await silent.ConnectAsync(url, CancellationToken.None);
            await ReceiveAsync(silent);
            var silentClock = Stopwatch.StartNew();
            try
            {
                while (await ReceiveAsync(silent) is not null)
                {
                }
            }
            catch (WebSocketException)
            {
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"pings in the first second (ms after open): {string.Join(", ", pings.Select(p => p.ToString("F0", CultureInfo.InvariantCulture)))} ({pings.Count} pings); silent client closed after {silentClock.Elapsed.TotalMilliseconds:F0} ms"));
        }

        return 0;
    }

    public static async Task<int> SlowConsumerAsync()
    {
        await using var node = await GatewayNode.StartAsync();
        var joined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var disconnected = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        node.Io.OnConnection(async socket =>
        {
            socket.OnDisconnect(reason => disconnected.TrySetResult(reason));
            await socket.JoinAsync("room");
            joined.TrySetResult();
        });

        using var tcp = new TcpClient { ReceiveBufferSize = 4096 };
        await tcp.ConnectAsync(node.Url.Host, node.Url.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {node.Url.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            await stream.ReadExactlyAsync(one);
            head.Append((char)one[0]);
        }

        await stream.WriteAsync(new byte[] { 0x81, 0x82, 0, 0, 0, 0, (byte)'4', (byte)'0' });
        await joined.Task.WaitAsync(TimeSpan.FromSeconds(5));

        var payload = new string('x', 480);
        var clock = Stopwatch.StartNew();
        var sent = 0;
        var heapAtStart = GC.GetTotalMemory(forceFullCollection: true);
        for (var second = 1; second <= 10; second++)
        {
            while (sent < second * 2000)
            {
                await node.Io.To("room").EmitAsync("m", payload);
                sent++;
                if (sent % 20 == 0)
                {
                    var due = TimeSpan.FromMilliseconds(sent / 2.0);
                    if (due > clock.Elapsed)
                    {
                        await Task.Delay(due - clock.Elapsed);
                    }
                }
            }

            var heap = GC.GetTotalMemory(forceFullCollection: true) - heapAtStart;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"t={clock.Elapsed.TotalSeconds:F1}s broadcasts={sent} heap growth={heap / 1048576.0:F1} MiB member={(disconnected.Task.IsCompleted ? "disconnected: " + disconnected.Task.Result : "connected")}"));
        }

        return 0;
    }

    private static async Task<string?> ReceiveAsync(ClientWebSocket socket, CancellationToken cancellationToken = default)
    {
        var buffer = new byte[4096];
        var result = await socket.ReceiveAsync(buffer, cancellationToken);
        return result.MessageType == WebSocketMessageType.Close ? null : Encoding.UTF8.GetString(buffer, 0, result.Count);
    }
}
