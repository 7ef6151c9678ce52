using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using OrleansRooms.Grains.Gateways;
using OrleansRooms.TestCluster;

/// <summary>
/// <c>--fanout</c>: the gateway-to-gateway fan-out of each delivery mode, end to end. Three gateways of an Orleans test
/// cluster over TCP loopback; gateways 2 and 3 each host one client in 64 rooms; gateway 1 broadcasts to those rooms in
/// turn, so every broadcast is one room-grain lookup and one message to each of the two other gateways. Light load: 200
/// broadcasts/s for 5 s, latency from the emit to the client's receipt (p50, p99). Saturated: 64 broadcasts in flight,
/// gateway-messages per second and process CPU per gateway-message (everything in the process counted, clients too).
/// </summary>
internal static class FanOutBench
{
    private const int Rooms = 64;

    public static async Task<int> RunAsync(GatewayDeliveryMode mode, int saturatedBroadcasts)
    {
        await using var cluster = new OrleansGatewayCluster(gateways: 3, mode);
        await cluster.StartAsync();
        foreach (var gateway in cluster.Gateways)
        {
            gateway.Io.OnConnection(async socket =>
            {
                for (var i = 0; i < Rooms; i++)
                {
                    await socket.JoinAsync("r" + i.ToString(CultureInfo.InvariantCulture));
                }

                await socket.EmitAsync("ready");
            });
        }

        var light = 1000;
        var total = light + saturatedBroadcasts;
        var received = new[] { new long[total], new long[total] };
        var clients = new List<LatencyClient>();
        for (var i = 0; i < 2; i++)
        {
            clients.Add(await LatencyClient.ConnectAsync(cluster.Gateways[i + 1].Url, received[i]));
        }

        foreach (var client in clients)
        {
            await client.Ready.WaitAsync(TimeSpan.FromSeconds(30));
        }

        var io = cluster.Gateways[0].Io;
        var sent = new long[total];

        // Light: paced, one at a time.
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < light; i++)
        {
            var due = TimeSpan.FromMilliseconds(i * 5.0);
            if (clock.Elapsed < due)
            {
                await Task.Delay(due - clock.Elapsed);
            }

            sent[i] = Stopwatch.GetTimestamp();
            await io.To("r" + (i % Rooms).ToString(CultureInfo.InvariantCulture)).EmitAsync("m", i);
        }

        await WaitForAsync(received, light);
        var latencies = new List<double>(light * 2);
        for (var i = 0; i < light; i++)
        {
            foreach (var client in received)
            {
                latencies.Add(Stopwatch.GetElapsedTime(sent[i], client[i]).TotalMilliseconds);
            }
        }

        latencies.Sort();

        // Saturated: 64 in flight.
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        clock.Restart();
        var pending = new Queue<Task>();
        for (var i = light; i < total; i++)
        {
            pending.Enqueue(io.To("r" + (i % Rooms).ToString(CultureInfo.InvariantCulture)).EmitAsync("m", i).AsTask());
            if (pending.Count >= 64)
            {
                await pending.Dequeue();
            }
        }

        await Task.WhenAll(pending);
        await WaitForAsync(received, total);
        var elapsed = clock.Elapsed;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var messages = 2.0 * saturatedBroadcasts;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fanout delivery={mode} light: p50={Percentile(latencies, 0.50):F3}ms p99={Percentile(latencies, 0.99):F3}ms " +
            $"saturated: gateway-messages/s={messages / elapsed.TotalSeconds:F0} cpu-per-gateway-message={cpu.TotalMicroseconds / messages:F1}us"));
        foreach (var client in clients)
        {
            client.Dispose();
        }

        return 0;
    }

    private static async Task WaitForAsync(long[][] received, int count)
    {
        var deadline = Stopwatch.StartNew();
        while (received.Any(r => r[count - 1] == 0))
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException("not every broadcast arrived");
            }

            await Task.Delay(1);
        }
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];

    /// <summary>A raw WebSocket client that stamps the arrival of each <c>m</c> event by the index it carries.</summary>
    private sealed class LatencyClient : IDisposable
    {
        private readonly ClientWebSocket _socket = new();
        private readonly long[] _received;
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private LatencyClient(long[] received) => _received = received;

        public Task Ready => _ready.Task;

        public static async Task<LatencyClient> ConnectAsync(Uri gateway, long[] received)
        {
            var client = new LatencyClient(received);
            var url = new Uri(gateway.ToString().Replace("http", "ws", StringComparison.Ordinal).TrimEnd('/') + "/socket.io/?EIO=4&transport=websocket");
            await client._socket.ConnectAsync(url, CancellationToken.None);
            await client._socket.SendAsync("40"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
            _ = client.ReceiveLoopAsync();
            return client;
        }

        public void Dispose()
        {
            _socket.Abort();
            _socket.Dispose();
        }

        private async Task ReceiveLoopAsync()
        {
            var buffer = new byte[4096];
            try
            {
                while (true)
                {
                    var result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                    var now = Stopwatch.GetTimestamp();
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    var text = buffer.AsSpan(0, result.Count);
                    if (text.StartsWith("42[\"m\","u8) && Utf8Parser.TryParse(text["42[\"m\",".Length..], out int index, out _))
                    {
                        _received[index] = now;
                    }
                    else if (text.StartsWith("42[\"ready\""u8))
                    {
                        _ready.TrySetResult();
                    }
                    else if (text.SequenceEqual("2"u8))
                    {
                        await _socket.SendAsync("3"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
                    }
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }
    }
}
