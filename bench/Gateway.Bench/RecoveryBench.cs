using System.Diagnostics;
using System.Text.Json;
using OrleansRooms;
using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

/// <summary>
/// Connection state recovery, timed with real WebSocket clients on an Orleans test cluster in this process:
/// <c>--recovery-replay</c>: a client whose connection closed comes back through another gateway after --missed
/// broadcasts to its room (default 1,000); the time from its CONNECT to the CONNECT answer, behind which the missed
/// packets are written. <c>--recovery-restart</c>: --sockets clients (default 10,000) on one of three gateways, which is
/// stopped cleanly; each comes back through one of the two others, and the time until every one is recovered.
/// </summary>
internal static class RecoveryBench
{
    private static readonly Dictionary<string, string> Recovery = new()
    {
        ["SocketIO:ConnectionStateRecovery:MaxDisconnectionDuration"] = "00:02:00",
        ["SocketIO:ConnectionStateRecovery:MaxMissedPackets"] = "100000",
    };

    public static async Task<int> ReplayAsync(int missed, int runs)
    {
        await using var cluster = new OrleansGatewayCluster(gateways: 2) { Settings = Recovery };
        await cluster.StartAsync();
        var (first, second) = (cluster.Gateways[0], cluster.Gateways[1]);
        var suspended = new System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource>();
        first.Io.OnConnection(socket => socket.OnDisconnect(_ => suspended.GetOrAdd(socket.Id, _ => new()).TrySetResult()));

        var times = new List<double>();
        for (var run = 0; run <= runs; run++)
        {
            await using var client = await TestClient.ConnectAsync(first.Url);
            await first.Io.In(client.Id).SocketsJoinAsync("r");
            await second.Io.To("r").EmitAsync("e", 0);
            var offset = LastArgument(await client.ExpectEventAsync("e"));
            await client.CloseAsync();
            await suspended.GetOrAdd(client.Id, _ => new()).Task.WaitAsync(TimeSpan.FromSeconds(30));
            for (var i = 1; i <= missed; i++)
            {
                await second.Io.To("r").EmitAsync("e", i);
            }

            await using var back = await TestClient.OpenAsync(second.Url);
            var clock = Stopwatch.StartNew();
            await back.JoinNamespaceAsync(new { pid = client.Pid, offset });
            var elapsed = clock.Elapsed.TotalMilliseconds;
            if (back.Id != client.Id)
            {
                Console.Error.WriteLine("recovery-replay: the client was not recovered");
                return 1;
            }

            for (var i = 1; i <= missed; i++)
            {
                var e = await back.ExpectEventAsync("e");
                if (e[0].GetInt32() != i)
                {
                    Console.Error.WriteLine($"recovery-replay: packet {e[0]} where {i} was due");
                    return 1;
                }
            }

            // The first run warms up (JIT, pools); it is not reported.
            if (run > 0)
            {
                times.Add(elapsed);
            }
        }

        times.Sort();
        Console.WriteLine($"recovery-replay: {missed:N0} missed packets, through another gateway: CONNECT to CONNECT answer p50 {times[times.Count / 2]:F1} ms, max {times[^1]:F1} ms ({runs} runs)");
        return 0;
    }

    public static async Task<int> RestartAsync(int count)
    {
        await using var redis = await RedisServer.StartAsync();
        await using var cluster = new OrleansGatewayCluster(gateways: 3) { RedisMembership = redis, Settings = Recovery };
        await cluster.StartAsync();
        var (stopping, survivor) = (cluster.Gateways[1], cluster.Gateways[0]);

        // The clients run in a process of their own: with the gateways' ends of their connections, one process would
        // pass this machine's limit of open files.
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(RecoveryBench).Assembly.Location);
        }

        foreach (var arg in new[] { "--recovery-clients", "--sockets", count.ToString(System.Globalization.CultureInfo.InvariantCulture), "--url", stopping.Url.ToString(), "--survivors", $"{cluster.Gateways[0].Url},{cluster.Gateways[2].Url}" })
        {
            start.ArgumentList.Add(arg);
        }

        using var clients = Process.Start(start)!;
        try
        {
            Console.WriteLine($"recovery-restart: {await clients.StandardOutput.ReadLineAsync()}");
            await survivor.Io.EmitAsync("e", 0);
            Console.WriteLine($"recovery-restart: {await clients.StandardOutput.ReadLineAsync()}");

            // Broadcasts go on through the restart: every client must get every one, once, in order.
            using var stop = new CancellationTokenSource();
            var sent = 0;
            var stream = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    await survivor.Io.EmitAsync("e", sent + 1);
                    sent++;
                    await Task.Delay(10);
                }
            });

            var clock = Stopwatch.StartNew();
            var stopped = cluster.StopGatewayAsync(stopping);
            var recovered = await clients.StandardOutput.ReadLineAsync();
            var elapsed = clock.Elapsed.TotalSeconds;
            await stopped;
            await stop.CancelAsync();
            await stream;
            Console.WriteLine($"recovery-restart: {recovered} through the two other gateways, the last {elapsed:F1} s after the stop began ({sent} broadcasts meanwhile)");
            await clients.StandardInput.WriteLineAsync(sent.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await clients.StandardInput.FlushAsync();
            Console.WriteLine($"recovery-restart: {await clients.StandardOutput.ReadLineAsync()}");
            await clients.WaitForExitAsync();
            return clients.ExitCode;
        }
        finally
        {
            if (!clients.HasExited)
            {
                clients.Kill();
            }
        }
    }

    /// <summary>The client process of <see cref="RestartAsync"/>: reports each stage on a line of its own.</summary>
    public static async Task<int> ClientsAsync(int count, Uri url, Uri[] survivors)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = 64 };
        var clients = new TestClient[count];
        var clock = Stopwatch.StartNew();
        await Parallel.ForAsync(0, count, parallel, async (i, _) => clients[i] = await TestClient.ConnectAsync(url));
        Console.WriteLine($"{count:N0} clients connected to one gateway in {clock.Elapsed.TotalSeconds:F1} s");
        var offsets = new string[count];
        await Parallel.ForAsync(0, count, parallel, async (i, _) => offsets[i] = LastArgument(await clients[i].ExpectEventAsync("e")));
        Console.WriteLine("each got a first broadcast");

        var recovered = 0;
        var back = new TestClient[count];
        var seen = new List<int>[count];
        long firstDrop = 0, lastDrop = 0, lastRecovered = 0;
        // Each client on its own, as real ones are: it sees its connection drop when it drops, and comes back at once.
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = count }, async (i, token) =>
        {
            var old = clients[i];
            await old.Disconnected.WaitAsync(TimeSpan.FromSeconds(60), token);
            var now = Stopwatch.GetTimestamp();
            Interlocked.CompareExchange(ref firstDrop, now, 0);
            InterlockedMax(ref lastDrop, now);
            var before = Drain(old);
            seen[i] = [.. before.Select(e => e[0].GetInt32())];
            var (pid, id) = (old.Pid, old.Id);
            await old.DisposeAsync();
            var client = await TestClient.OpenAsync(survivors[i % survivors.Length]);
            await client.JoinNamespaceAsync(new { pid, offset = before.Count > 0 ? LastArgument(before[^1]) : offsets[i] });
            back[i] = client;
            InterlockedMax(ref lastRecovered, Stopwatch.GetTimestamp());
            if (client.Id == id)
            {
                Interlocked.Increment(ref recovered);
            }
        });
        Console.WriteLine($"{recovered:N0} of {count:N0} recovered (connections dropped over {Stopwatch.GetElapsedTime(firstDrop, lastDrop).TotalSeconds:F1} s, the last recovered {Stopwatch.GetElapsedTime(firstDrop, lastRecovered).TotalSeconds:F1} s after the first drop)");

        var sent = int.Parse(Console.ReadLine()!, System.Globalization.CultureInfo.InvariantCulture);
        var complete = 0;
        await Parallel.ForAsync(0, count, parallel, async (i, _) =>
        {
            while (seen[i].Count < sent)
            {
                seen[i].Add((await back[i].ExpectEventAsync("e"))[0].GetInt32());
            }

            if (seen[i].SequenceEqual(Enumerable.Range(1, sent)))
            {
                Interlocked.Increment(ref complete);
            }
        });
        Console.WriteLine($"{complete:N0} of {count:N0} got every broadcast once, in order");
        foreach (var client in back)
        {
            await client.DisposeAsync();
        }

        return recovered == count && complete == count ? 0 : 1;
    }

    private static void InterlockedMax(ref long location, long value)
    {
        var current = Interlocked.Read(ref location);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private static string LastArgument(ReceivedEvent e) => e.Arguments[e.Arguments.GetArrayLength() - 1].GetString()!;

    private static List<ReceivedEvent> Drain(TestClient client)
    {
        var events = new List<ReceivedEvent>();
        while (client.TryReadEvent(out var e))
        {
            events.Add(e);
        }

        return events;
    }
}
