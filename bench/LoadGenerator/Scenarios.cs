using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace OrleansRooms.LoadGenerator;

internal sealed record Step(
    double TargetDeliveriesPerSecond, long Published, long Expected, long Received, double DeliveredFraction,
    double DeliveriesPerSecond, double P50Ms, double P99Ms, double P999Ms, double ServerCpuSeconds, double RedisCpuSeconds,
    double GeneratorCpuSeconds, double Seconds, bool Sustained);

/// <summary>
/// A broadcast run: the fixed-rate steps (if asked for), then the ramp. The ramp's answer lies between
/// <see cref="BestTarget"/> (the highest target sustained) and <see cref="LowestFailedTarget"/> (the lowest target
/// above it that failed; null if none failed), so no ratio should be read finer than that bracket.
/// </summary>
internal sealed record BroadcastResult(
    string Scenario, string Server, int Connections, int RoomSize, int Rooms, int PayloadBytes, int Publishers,
    int Nodes, FixedRate? FixedRate, double MaxSustainedDeliveriesPerSecond, double? BestTarget, double? LowestFailedTarget,
    Step? Best, Step? AtHalf, IReadOnlyList<Step> Ramp);

/// <summary>
/// Several steps at one target rate, below every server's saturation: the medians over the steps of CPU per delivery
/// and latency. <see cref="Held"/> is whether every step delivered at least the minimum fraction; a figure from a rate
/// that did not hold is a figure at some other, unknown load.
/// </summary>
internal sealed record FixedRate(
    double TargetDeliveriesPerSecond, bool Held, double MinDeliveredFraction, double ServerCpuMicrosPerDelivery,
    double GeneratorCpuMicrosPerDelivery, double RedisCpuMicrosPerDelivery, double P50Ms, double P99Ms,
    IReadOnlyList<Step> Steps)
{
    public static FixedRate Of(double target, double minDelivery, IReadOnlyList<Step> steps)
    {
        static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted.Length == 0 ? double.NaN
                : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
                : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }

        static double PerDelivery(double seconds, Step s) => seconds * 1e6 / Math.Max(s.Received, 1);
        return new FixedRate(target, steps.All(s => s.DeliveredFraction >= minDelivery), steps.Min(s => s.DeliveredFraction),
            Median(steps.Select(s => PerDelivery(s.ServerCpuSeconds, s))), Median(steps.Select(s => PerDelivery(s.GeneratorCpuSeconds, s))),
            Median(steps.Select(s => PerDelivery(s.RedisCpuSeconds, s))), Median(steps.Select(s => s.P50Ms)),
            Median(steps.Select(s => s.P99Ms)), steps);
    }
}

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
    /// Broadcast, on one target or several (a cluster): receivers in rooms of --room-size, publishers outside the rooms
    /// on the first target. With --fixed-rate, first --fixed-steps steps at that one rate. Then an open-loop ramp of
    /// the delivery rate (x --factor per step, then geometric bisection until the bracket is within --bracket) until
    /// p99 exceeds the limit or deliveries fall below the minimum, and a run at half of the highest sustained rate.
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

        var factor = o.Double("--factor", 2);
        var maxSteps = o.Int("--max-steps", 8);
        var confirm = o.Int("--confirm-failures", 1);
        var fixedTarget = o.Double("--fixed-rate", 0);
        Run(fixedTarget > 0 ? fixedTarget : o.Double("--start-rate", 20_000), o.Double("--warmup-seconds", 2)); // warm-up (server JIT tiers, pools); not reported

        // Fixed rate: the same target for every server, so CPU per delivery compares equal work at equal load.
        await QuiesceAsync();
        FixedRate? fixedRate = null;
        if (fixedTarget > 0)
        {
            var steps = new List<Step>();
            for (var i = 0; i < Math.Max(o.Int("--fixed-steps", 3), 1); i++)
            {
                var s = Run(fixedTarget, o.Double("--fixed-step-seconds", stepSeconds));
                steps.Add(s);
                Log($"  {fixedTarget,12:F0}/s fixed:  {s.DeliveriesPerSecond,12:F0}/s delivered {s.DeliveredFraction:P2} p99 {s.P99Ms:F1} ms, server {s.ServerCpuSeconds * 1e6 / Math.Max(s.Received, 1):F2} µs per delivery");
                await SettleAsync(s);
            }

            fixedRate = FixedRate.Of(fixedTarget, minDelivery, steps);
        }

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
                SettleAsync(s).GetAwaiter().GetResult();
                s = Run(target, stepSeconds);
                ramp.Add(s);
                Log($"  {target,12:F0}/s target: {s.DeliveriesPerSecond,12:F0}/s delivered {s.DeliveredFraction:P2} p99 {s.P99Ms:F1} ms (repeat)");
            }

            SettleAsync(s).GetAwaiter().GetResult();
            return s;
        }

        // Up by the factor while the server keeps up, or down from a start it could not sustain, until a step brackets
        // the answer between a sustained rate and a failed one. Fixed-rate steps that all passed are the ramp's first
        // rung, so it starts one factor above them instead of climbing to them again.
        var rate = fixedTarget > 0 ? fixedTarget : o.Double("--start-rate", 20_000);
        if (maxSteps > 0 && fixedRate is { Steps: var fixedSteps } && fixedSteps.All(s => s.Sustained))
        {
            best = fixedSteps.OrderBy(s => s.DeliveriesPerSecond).ElementAt(fixedSteps.Count / 2);
        }
        else if (maxSteps > 0)
        {
            var first = Measure(rate);
            best = first.Sustained ? first : null;
            failed = first.Sustained ? null : rate;
        }

        for (var i = 1; i < maxSteps && best is not null && failed is null; i++)
        {
            rate *= factor;
            var s = Measure(rate);
            best = s.Sustained ? s : best;
            failed = s.Sustained ? null : rate;
        }

        for (var i = 1; i < maxSteps && best is null && failed is not null; i++)
        {
            rate /= factor;
            var s = Measure(rate);
            best = s.Sustained ? s : null;
            failed = s.Sustained ? failed : rate;
        }

        // Bisect (geometrically) between the two until the failed target is within --bracket of the sustained one, or
        // the step budget runs out: the bracket is then reported as it is.
        var bracket = o.Double("--bracket", 1.05);
        for (var b = 0; b < o.Int("--bisect-steps", 4) && best is not null && failed is not null
            && failed.Value / best.TargetDeliveriesPerSecond > bracket; b++)
        {
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

        // Latency at half the answer, where a server has headroom (--max-steps 0: the fixed-rate steps only).
        Step? half = null;
        if (maxSteps > 0)
        {
            half = Run((best?.DeliveriesPerSecond ?? rate) / 2, stepSeconds);
            Log($"  at half: {half.DeliveriesPerSecond:F0}/s p50 {half.P50Ms:F2} p99 {half.P99Ms:F2} p99.9 {half.P999Ms:F2} ms");
        }

        Close(receivers);
        Close(publishers);
        return new BroadcastResult("broadcast", o.Get("--server", "?"), connections, roomSize, rooms, payloadBytes, publisherCount,
            targets.Length, fixedRate, best?.DeliveriesPerSecond ?? 0, best?.TargetDeliveriesPerSecond, failed, best, half, ramp);
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

    /// <summary>After a step that left deliveries missing, waits for them to stop arriving (see <see cref="QuiesceAsync"/>).</summary>
    private static Task SettleAsync(Step step) => step.Received < step.Expected ? QuiesceAsync() : Task.CompletedTask;

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
