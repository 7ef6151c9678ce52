using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace OrleansRooms.LoadGenerator;

internal sealed record Step(
    double TargetDeliveriesPerSecond, long Published, long Expected, long Received, double DeliveredFraction,
    double DeliveriesPerSecond, double P50Ms, double P99Ms, double P999Ms, double ServerCpuSeconds, double RedisCpuSeconds,
    double GeneratorCpuSeconds, double Seconds, bool Sustained);

internal sealed record BroadcastResult(
    string Scenario, string Server, int Connections, int RoomSize, int Rooms, int PayloadBytes, int Publishers,
    int Nodes, double MaxSustainedDeliveriesPerSecond, Step? Best, Step? AtHalf, IReadOnlyList<Step> Ramp);

internal sealed record JoinLeaveResult(
    string Scenario, string Server, int Clients, int Nodes, double Seconds, long Pairs, double PairsPerSecond,
    double AckP50Ms, double AckP99Ms, double AckP999Ms, double ServerCpuSeconds, double RedisCpuSeconds);

internal sealed record MemoryPoint(int Connections, long RssBytes);

internal sealed record MemoryResult(
    string Scenario, string Server, IReadOnlyList<MemoryPoint> Points, double BytesPerConnection, Capacity? Capacity);

/// <summary>Scenario 4: how many connections stayed open for the hold, and where opening more failed.</summary>
internal sealed record Capacity(int Held, double HoldSeconds, long ClosedDuringHold, int OpenedBeyond, string? Failure);

internal static class Scenarios
{
    private static Measurement Sink => WsClient.Sink;

    /// <summary>
    /// Scenario 1 (and 5 with several --targets): receivers in rooms of --room-size, publishers outside the rooms on
    /// the first target, an open-loop ramp of the delivery rate until p99 exceeds the limit or deliveries fall below
    /// the minimum, then a run at half of the highest sustained rate.
    /// </summary>
    public static async Task<BroadcastResult> BroadcastAsync(Options o)
    {
        var targets = Targets(o);
        var connections = o.Int("--connections", 1000);
        var roomSize = o.Int("--room-size", 10);
        var payloadBytes = Math.Max(o.Int("--payload", 100), Payload.Header);
        var rooms = Math.Max(connections / roomSize, 1);
        connections = rooms * roomSize;
        var publisherCount = Math.Min(rooms, o.Int("--publishers", 8));
        var stepSeconds = o.Double("--step-seconds", 2);
        var drainSeconds = o.Double("--drain-seconds", 1);
        var p99Limit = o.Double("--p99-limit-ms", 50);
        var minDelivery = o.Double("--min-delivery", 0.99);
        var pids = o.Ints("--pids");
        var redisPids = o.Ints("--redis-pids");

        var receivers = await ConnectManyAsync(targets, connections, o.Int("--sources", 0));
        await ForEachAsync(receivers, (c, i) => c.EmitWithAckAsync("join", "r" + (i / roomSize)));
        var publishers = await ConnectManyAsync([targets[0]], publisherCount, 0);
        Log($"{connections} receivers joined {rooms} rooms of {roomSize}; {publisherCount} publishers");

        var publisher = new Publisher(publishers, rooms, roomSize, payloadBytes, o.Get("--payload-fill", "x") == "words");
        var step = 0;
        // The publisher sleeps and spins: on a thread of its own, or it would hold a pool thread the receive loops
        // need (with 2 cores the pool starts with 2 threads and adds more slowly, which showed up as 100-ms stalls).
        Step Run(double rate, double seconds)
        {
            var id = ++step;
            return Task.Factory.StartNew(
                () => publisher.Run(id, rate, seconds, drainSeconds, p99Limit, minDelivery, pids, redisPids),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).GetAwaiter().GetResult();
        }

        var rate = o.Double("--start-rate", 20_000);
        var factor = o.Double("--factor", 2);
        var maxSteps = o.Int("--max-steps", 8);
        var confirm = o.Int("--confirm-failures", 1);
        Run(rate, o.Double("--warmup-seconds", 2)); // warm-up (server JIT tiers, pools); not reported
        await QuiesceAsync();
        var ramp = new List<Step>();
        Step? best = null;
        double? failed = null;
        Step Measure(double target)
        {
            var s = Run(target, stepSeconds);
            ramp.Add(s);
            Log($"  {target,12:F0}/s target: {s.DeliveriesPerSecond,12:F0}/s delivered {s.DeliveredFraction:P2} p99 {s.P99Ms:F1} ms");
            for (var retry = 0; !s.Sustained && retry < confirm; retry++)
            {
                // A failure must repeat to count: one stall of a few hundred ms (a heartbeat burst, a GC, another
                // process) fails a 3-s step by itself, and would end the ramp at a rate the server sustains.
                QuiesceAsync().GetAwaiter().GetResult();
                s = Run(target, stepSeconds);
                ramp.Add(s);
                Log($"  {target,12:F0}/s target: {s.DeliveriesPerSecond,12:F0}/s delivered {s.DeliveredFraction:P2} p99 {s.P99Ms:F1} ms (repeat)");
            }

            return s;
        }

        // Up by the factor while the server keeps up, or down from a start it could not sustain, until a step brackets
        // the answer between a sustained rate and a failed one.
        var first = Measure(rate);
        if (first.Sustained)
        {
            best = first;
            for (var i = 1; i < maxSteps && failed is null; i++)
            {
                rate *= factor;
                var s = Measure(rate);
                if (s.Sustained)
                {
                    best = s;
                }
                else
                {
                    failed = rate;
                }
            }
        }
        else
        {
            failed = rate;
            for (var i = 1; i < maxSteps && best is null; i++)
            {
                await QuiesceAsync();
                rate /= factor;
                var s = Measure(rate);
                if (s.Sustained)
                {
                    best = s;
                }
                else
                {
                    failed = rate;
                }
            }
        }

        // Bisect (geometrically) between the two: each step halves the gap.
        for (var b = 0; b < o.Int("--bisect-steps", 2) && best is not null && failed is not null; b++)
        {
            await QuiesceAsync();
            var mid = Measure(Math.Sqrt(best.TargetDeliveriesPerSecond * failed.Value));
            if (mid.Sustained)
            {
                best = mid;
            }
            else
            {
                failed = mid.TargetDeliveriesPerSecond;
            }
        }

        await QuiesceAsync();
        var half = Run((best?.DeliveriesPerSecond ?? o.Double("--start-rate", 20_000)) / 2, stepSeconds);
        Log($"  at half: {half.DeliveriesPerSecond:F0}/s p50 {half.P50Ms:F2} p99 {half.P99Ms:F2} p99.9 {half.P999Ms:F2} ms");
        Close(receivers);
        Close(publishers);
        return new BroadcastResult("broadcast", o.Get("--server", "?"), connections, roomSize, rooms, payloadBytes, publisherCount,
            targets.Length, best?.DeliveriesPerSecond ?? 0, best, half, ramp);
    }

    /// <summary>Scenario 2: each client joins and leaves its own room in a closed loop, one acknowledged op at a time.</summary>
    public static async Task<JoinLeaveResult> JoinLeaveAsync(Options o)
    {
        var targets = Targets(o);
        var clients = await ConnectManyAsync(targets, o.Int("--clients", 100), 0);
        var seconds = o.Double("--seconds", 5);
        var pids = o.Ints("--pids");
        var redisPids = o.Ints("--redis-pids");

        // Warm-up, then the measured run.
        await RunPairs(clients, TimeSpan.FromSeconds(o.Double("--warmup-seconds", 1)));
        Sink.ResetAcks();
        var cpu = ProcStat.CpuSeconds(pids);
        var redisCpu = ProcStat.CpuSeconds(redisPids);
        var clock = Stopwatch.StartNew();
        var pairs = await RunPairs(clients, TimeSpan.FromSeconds(seconds));
        clock.Stop();
        var acks = Sink.Acks;
        Close(clients);
        return new JoinLeaveResult("joinleave", o.Get("--server", "?"), clients.Length, targets.Length, clock.Elapsed.TotalSeconds, pairs,
            pairs / clock.Elapsed.TotalSeconds, acks.PercentileMs(0.5), acks.PercentileMs(0.99), acks.PercentileMs(0.999),
            ProcStat.CpuSeconds(pids) - cpu, ProcStat.CpuSeconds(redisPids) - redisCpu);

        static async Task<long> RunPairs(WsClient[] clients, TimeSpan duration)
        {
            long pairs = 0;
            var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            await Task.WhenAll(clients.Select(async (c, i) =>
            {
                var room = "j" + i;
                while (Stopwatch.GetTimestamp() < end)
                {
                    await c.EmitWithAckAsync("join", room);
                    await c.EmitWithAckAsync("leave", room);
                    Interlocked.Increment(ref pairs);
                }
            }));
            return pairs;
        }
    }

    /// <summary>Scenario 3: RSS of the server with idle connected sockets at each --levels count, after --settle-seconds.</summary>
    public static async Task<MemoryResult> MemoryAsync(Options o)
    {
        var targets = Targets(o);
        var pids = o.Ints("--pids");
        var settle = TimeSpan.FromSeconds(o.Double("--settle-seconds", 3));
        var points = new List<MemoryPoint>();
        var held = new List<WsClient>();
        foreach (var level in o.Ints("--levels"))
        {
            if (level > held.Count)
            {
                held.AddRange(await ConnectManyAsync(targets, level - held.Count, o.Int("--sources", 0)));
            }

            await Task.Delay(settle);
            var rss = ProcStat.RssBytes(pids);
            points.Add(new MemoryPoint(held.Count, rss));
            Log($"  {held.Count,6} connections: RSS {rss / 1048576.0:F1} MiB (closed so far: {Sink.Closed})");
        }

        // Scenario 4 on the same connections: hold the top level, then open more until something refuses.
        Capacity? capacity = null;
        var hold = o.Double("--hold-seconds", 0);
        if (hold > 0)
        {
            var closedBefore = Sink.Closed;
            await Task.Delay(TimeSpan.FromSeconds(hold));
            var closedDuringHold = Sink.Closed - closedBefore;
            Log($"  held {held.Count} connections for {hold:F0} s: {closedDuringHold} closed");
            var (beyond, failure) = await OpenUntilFailureAsync(targets, held, o.Int("--beyond", 2000), o.Int("--sources", 0));
            Log($"  {beyond} more opened, then: {failure ?? "no failure"}");
            capacity = new Capacity(held.Count - beyond, hold, closedDuringHold, beyond, failure);
        }

        Close([.. held]);
        return new MemoryResult("memory", o.Get("--server", "?"), points, Slope(points), capacity);
    }

    /// <summary>
    /// Opens connections one batch at a time until one fails, <paramref name="max"/> more are open, or this process
    /// nears its own open-file limit: a .NET process that runs out of descriptors cannot start threads and dies.
    /// </summary>
    private static async Task<(int Opened, string? Failure)> OpenUntilFailureAsync(IPEndPoint[] targets, List<WsClient> held, int max, int sources)
    {
        var opened = 0;
        var ownLimit = OpenFileLimit();
        while (opened < max)
        {
            if (ownLimit is { } limit && Directory.GetFiles("/proc/self/fd").Length + 100 + 400 > limit)
            {
                return (opened, $"the load generator's own open-file limit ({limit:N0}); the server was still accepting");
            }

            try
            {
                held.AddRange(await ConnectManyAsync(targets, 100, sources));
                opened += 100;
            }
            catch (IOException e)
            {
                var root = e.InnerException ?? e;
                return (opened, $"{root.GetType().Name}: {root.Message}");
            }
        }

        return (opened, null);
    }

    /// <summary>This process's soft limit of open files (/proc/self/limits), or null.</summary>
    private static long? OpenFileLimit()
    {
        var line = File.Exists("/proc/self/limits")
            ? File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal))
            : null;
        var fields = line?["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields is { Length: > 0 } && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var soft) ? soft : null;
    }

    private static double Slope(List<MemoryPoint> points)
    {
        if (points.Count < 2)
        {
            return 0;
        }

        // Least squares over all levels, so one noisy sample moves the answer less.
        var mx = points.Average(p => (double)p.Connections);
        var my = points.Average(p => (double)p.RssBytes);
        var sxy = points.Sum(p => (p.Connections - mx) * (p.RssBytes - my));
        var sxx = points.Sum(p => (p.Connections - mx) * (p.Connections - mx));
        return sxx == 0 ? 0 : sxy / sxx;
    }

    private static IPEndPoint[] Targets(Options o) =>
        [.. o.Get("--targets", "127.0.0.1:5001").Split(',').Select(IPEndPoint.Parse)];

    /// <summary>Connection i goes to target i % targets; sources &gt; 0 binds them to 127.0.0.2.. in turn.</summary>
    private static Task<WsClient[]> ConnectManyAsync(IPEndPoint[] targets, int count, int sources) => Task.Run(() =>
    {
        // Blocking handshakes (see EpollReceiver) on threads of their own, so the pool stays free for ack continuations.
        var clients = new WsClient[count];
        var next = -1;
        Exception? failure = null;
        var threads = Enumerable.Range(0, Math.Min(count, 32)).Select(_ => new Thread(() =>
        {
            try
            {
                for (var i = Interlocked.Increment(ref next); i < count && failure is null; i = Interlocked.Increment(ref next))
                {
                    var source = sources > 0 ? new IPAddress([127, 0, 0, (byte)(2 + (i % sources))]) : null;
                    clients[i] = WsClient.Connect(targets[i % targets.Length], source, i);
                }
            }
            catch (Exception e)
            {
                failure ??= e;
            }
        })).ToArray();
        foreach (var t in threads)
        {
            t.Start();
        }

        foreach (var t in threads)
        {
            t.Join();
        }

        if (failure is not null)
        {
            foreach (var c in clients)
            {
                c?.Dispose();
            }

            throw new IOException($"connecting {count} clients failed", failure);
        }

        return clients;
    });

    private static Task ForEachAsync(WsClient[] clients, Func<WsClient, int, Task> action) =>
        Parallel.ForAsync(0, clients.Length, new ParallelOptions { MaxDegreeOfParallelism = 64 },
            async (i, ct) => await action(clients[i], i).WaitAsync(TimeSpan.FromSeconds(60), ct));

    /// <summary>Waits until deliveries from earlier steps stop arriving, so a backlog does not spill into the next step.</summary>
    private static async Task QuiesceAsync()
    {
        var last = -1L;
        var deadline = Stopwatch.StartNew();
        while (Sink.Deliveries != last && deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            last = Sink.Deliveries;
            await Task.Delay(300);
        }
    }

    private static void Close(WsClient[] clients)
    {
        foreach (var c in clients)
        {
            c.Dispose();
        }
    }

    public static void Log(string line) => Console.Error.WriteLine(line);
}

/// <summary>The open-loop publisher: messages are due on a fixed schedule whatever the server does.</summary>
internal sealed class Publisher(WsClient[] publishers, int rooms, int roomSize, int payloadBytes, bool words = false)
{
    // With --payload-fill words: lowercase words of random letters, which deflate to about 60 % like text does, where
    // 'x' repeated would shrink a hundredfold and make compression look cheaper than it is.
    private readonly byte[]? _words = words ? Words(payloadBytes) : null;

    private readonly byte[][] _roomPrefix = [.. Enumerable.Range(0, rooms).Select(r => WsClient.PublishPrefix("r" + r))];
    private readonly byte[] _suffix = WsClient.PublishSuffix;
    private readonly byte[][] _batches = [.. publishers.Select(_ => new byte[64 * 1024])];
    private readonly int[] _lengths = new int[publishers.Length];

    private static byte[] Words(int length)
    {
        var random = new Random(42);
        var words = new byte[length];
        for (var i = 0; i < length; i++)
        {
            words[i] = random.Next(6) == 0 ? (byte)' ' : (byte)('a' + random.Next(26));
        }

        return words;
    }

    public Step Run(int step, double deliveriesPerSecond, double seconds, double drainSeconds, double p99Limit, double minDelivery,
        int[] pids, int[] redisPids)
    {
        var sink = WsClient.Sink;
        var messagesPerSecond = deliveriesPerSecond / roomSize;
        var total = Math.Max((long)(messagesPerSecond * seconds), 1);
        var frequency = (double)Stopwatch.Frequency;
        var message = new byte[_roomPrefix[^1].Length + payloadBytes + _suffix.Length];
        sink.StartStep(step);
        var cpu = ProcStat.CpuSeconds(pids);
        var redisCpu = ProcStat.CpuSeconds(redisPids);
        var ownCpu = Environment.CpuUsage.TotalTime;
        var start = Stopwatch.GetTimestamp();
        long sent = 0;
        while (sent < total)
        {
            var now = Stopwatch.GetTimestamp();
            var due = Math.Min(total, (long)((now - start) / frequency * messagesPerSecond) + 1);
            for (; sent < due; sent++)
            {
                // The timestamp is when the message was due, not when it left: a late publisher counts as latency.
                var intended = start + (long)(sent / messagesPerSecond * frequency);
                var room = (int)(sent % rooms);
                var prefix = _roomPrefix[room];
                prefix.CopyTo(message, 0);
                var body = message.AsSpan(prefix.Length, payloadBytes);
                Payload.Write(body, (step * Payload.StepSpan) + sent, intended);
                if (_words is null)
                {
                    body[Payload.Header..].Fill((byte)'x');
                }
                else
                {
                    _words.AsSpan(0, payloadBytes - Payload.Header).CopyTo(body[Payload.Header..]);
                }

                _suffix.CopyTo(message.AsSpan(prefix.Length + payloadBytes));
                Append(room % publishers.Length, message.AsSpan(0, prefix.Length + payloadBytes + _suffix.Length));
            }

            Flush();
            var next = start + (long)(sent / messagesPerSecond * frequency);
            var wait = (next - Stopwatch.GetTimestamp()) * 1_000_000 / Stopwatch.Frequency;
            if (sent < total && wait > 0)
            {
                // Sleep rather than spin or yield: on 2 cores a spinning publisher takes CPU from the server it measures.
                Native.Sleep((int)Math.Min(wait, 1000));
            }
        }

        var published = Stopwatch.GetTimestamp();
        var expected = total * roomSize;
        var drainEnd = published + (long)(drainSeconds * frequency);
        while (sink.Received(step) < expected && Stopwatch.GetTimestamp() < drainEnd)
        {
            Thread.Sleep(2);
        }

        var end = Stopwatch.GetTimestamp();
        var received = sink.Received(step);
        var elapsed = (end - start) / frequency;
        var latency = sink.Latency;
        var fraction = received / (double)expected;
        var p99 = latency.PercentileMs(0.99);
        return new Step(deliveriesPerSecond, total, expected, received, fraction, received / elapsed, latency.PercentileMs(0.5), p99,
            latency.PercentileMs(0.999), ProcStat.CpuSeconds(pids) - cpu, ProcStat.CpuSeconds(redisPids) - redisCpu,
            (Environment.CpuUsage.TotalTime - ownCpu).TotalSeconds, elapsed,
            fraction >= minDelivery && p99 <= p99Limit);
    }

    private void Append(int publisher, ReadOnlySpan<byte> payload)
    {
        ref var batch = ref _batches[publisher];
        if (batch.Length - _lengths[publisher] < payload.Length + Frames.MaxHeader)
        {
            Array.Resize(ref batch, (batch.Length * 2) + payload.Length + Frames.MaxHeader);
        }

        _lengths[publisher] += Frames.WriteText(batch.AsSpan(_lengths[publisher]), payload);
    }

    private void Flush()
    {
        for (var i = 0; i < publishers.Length; i++)
        {
            if (_lengths[i] > 0)
            {
                publishers[i].SendRaw(_batches[i].AsSpan(0, _lengths[i]));
                _lengths[i] = 0;
            }
        }
    }
}
