using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace OrleansRooms.LoadGenerator;

/// <summary>Turns the JSON results of one bench/run into docs/benchmarks.md and an SVG chart drawn from the same numbers.</summary>
internal static class Report
{
    private const string Ours = "orleansrooms";
    private const string Baseline = "node";
    private const string Ceiling = "raw-kestrel";
    private static readonly string[] s_order = ["orleansrooms", "orleansrooms-deflate", "orleansrooms-1core", "node", "bun", "signalr", "raw-kestrel"];

    // The peers OrleansRooms should beat; the ceiling is a bound, not a peer.
    private static readonly string[] s_peers = ["node", "bun", "signalr"];

    public static void Write(string results, string mdPath, string svgPath)
    {
        var runs = Directory.GetFiles(results, "*.json").Order(StringComparer.Ordinal)
            .Select(f => (Key: Path.GetFileNameWithoutExtension(f), Json: JsonNode.Parse(File.ReadAllText(f))!))
            .ToList();
        var meta = File.Exists(Path.Combine(results, "meta.txt")) ? File.ReadAllLines(Path.Combine(results, "meta.txt")) : [];
        var quick = meta.Any(l => l.StartsWith("mode: quick", StringComparison.Ordinal));
        var md = new StringBuilder();
        var chart = new List<(string Title, string Unit, List<(string Server, double Value)> Bars)>();

        md.AppendLine("# Benchmarks: OrleansRooms vs socket.io on Node.js and on Bun, ASP.NET Core SignalR and a raw Kestrel ceiling");
        md.AppendLine();
        md.AppendLine("Section 1, server CPU per delivery at one fixed rate common to every server, is the steadiest figure of this report, and it comes first. The machine has 2 cores shared by the server, the load generator and the kernel's loopback TCP, so the highest rate a server sustains moves with everything else the machine does, by a rung or two from run to run; at a fixed rate below every server's saturation, each server does the same work under the same load, and its CPU per delivery no longer depends on how much of the machine it managed to get.");
        md.AppendLine();
        md.AppendLine(quick
            ? "**This is a quick run (`bench/run --quick`): 1,000 connections and one-second ramp steps. It is a smoke test; its numbers are indicative only. `bench/run` without `--quick` runs the full configuration.**"
            : "Full run (`bench/run`).");
        md.AppendLine();
        if (quick)
        {
            md.AppendLine("How to read a quick run: steps last one second and there are few of them, so one stall of a few tens of milliseconds anywhere (server, load generator, GC, another process) puts p99 over 50 ms and ends the ramp. Treat the ratios as a smoke test that the harness works, not as figures to compare.");
            md.AppendLine();
        }
        md.AppendLine("## Machine and versions");
        md.AppendLine();
        foreach (var line in meta)
        {
            md.AppendLine("- " + line);
        }

        md.AppendLine();
        Goals(md, runs);
        md.AppendLine(Method);
        md.AppendLine();
        if (File.Exists(AnalysisPath) && !quick)
        {
            md.AppendLine(File.ReadAllText(AnalysisPath).TrimEnd());
            md.AppendLine();
        }

        var broadcasts = runs.Where(r => r.Key.StartsWith("broadcast-", StringComparison.Ordinal)).ToList();
        md.AppendLine("## 1. CPU per delivery at a fixed rate (single node)");
        md.AppendLine();
        md.AppendLine("Every server at the same delivered rate per room size (100-byte payloads), below every server's saturation: a warm-up, then steps of equal length; each figure is the median over the steps. A server that did not deliver 99 % of a step's messages within the step and its drain time did not hold the rate, and has no figure: its CPU would be that of some other load. Lower is better.");
        md.AppendLine();
        FixedRateTables(md, chart, broadcasts, "");
        md.AppendLine("## 2. Broadcast throughput (single node)");
        md.AppendLine();
        md.AppendLine("Max sustained is the highest target rate a step of the ramp sustained; beside it, in brackets, the lowest target that failed above it: the true answer lies between the two, so compare two servers only where their brackets do not overlap.");
        md.AppendLine();
        BroadcastTables(md, chart, broadcasts, "");
        md.AppendLine("## 3. Join/leave (acknowledged pairs, closed loop)");
        md.AppendLine();
        foreach (var group in runs.Where(r => r.Key.StartsWith("joinleave-", StringComparison.Ordinal)).GroupBy(r => Variant(r.Key)))
        {
            var rows = Sorted(group);
            var baseline = rows.FirstOrDefault(r => Server(r.Json) == Baseline).Json?["PairsPerSecond"]?.GetValue<double>();
            md.AppendLine(CultureInfo.InvariantCulture, $"**{group.Key}** ({rows[0].Json["Clients"]} clients over {rows[0].Json["Nodes"]} node(s); each client joins then leaves its own room, one acknowledged op at a time)");
            md.AppendLine();
            md.AppendLine("| server | pairs/s | vs node | ack p50 ms | ack p99 ms | ack p99.9 ms | server CPU s | Redis CPU s |");
            md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            var bars = new List<(string, double)>();
            foreach (var (_, j) in rows)
            {
                var pairs = j["PairsPerSecond"]!.GetValue<double>();
                bars.Add((Server(j), pairs));
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {Server(j)} | {pairs:N0} | {Ratio(pairs, baseline)} | {Ms(j["AckP50Ms"])} | {Ms(j["AckP99Ms"])} | {Ms(j["AckP999Ms"])} | {j["ServerCpuSeconds"]!.GetValue<double>():F2} | {Cpu(j["RedisCpuSeconds"], j["Nodes"])} |");
            }

            chart.Add(($"join/leave {group.Key}", "pairs/s", bars));
            md.AppendLine();
        }

        md.AppendLine("## 4. Idle memory");
        md.AppendLine();
        var memory = Sorted(runs.Where(r => r.Key.StartsWith("memory-", StringComparison.Ordinal)));
        if (memory.Count > 0)
        {
            var levels = memory[0].Json["Points"]!.AsArray().Select(p => p!["Connections"]!.GetValue<int>()).ToList();
            md.AppendLine("RSS (`VmRSS` of the server process) after the connections were opened (Socket.IO connected, no room) and left to settle; bytes per connection is the least-squares slope over all levels. Garbage not yet collected counts: the servers were not asked to collect.");
            md.AppendLine();
            md.AppendLine("| server | " + string.Join(" | ", levels.Select(l => $"RSS MiB at {l:N0}")) + " | bytes/connection | vs node |");
            md.AppendLine("| --- | " + string.Join(" | ", levels.Select(_ => "---:")) + " | ---: | ---: |");
            var baseline = memory.FirstOrDefault(r => Server(r.Json) == Baseline).Json?["BytesPerConnection"]?.GetValue<double>();
            foreach (var (_, j) in memory)
            {
                var slope = j["BytesPerConnection"]!.GetValue<double>();
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {Server(j)} | {string.Join(" | ", j["Points"]!.AsArray().Select(p => (p!["RssBytes"]!.GetValue<long>() / 1048576.0).ToString("F1", CultureInfo.InvariantCulture)))} | {slope:N0} | {Ratio(slope, baseline)} |");
            }

            md.AppendLine();
            md.AppendLine("Here a ratio below 1 means less memory than Node.");
            md.AppendLine();
        }

        md.AppendLine("## 5. Connection capacity");
        md.AppendLine();
        var capacities = memory.Where(r => r.Json["Capacity"] is JsonObject).ToList();
        if (capacities.Count == 0)
        {
            md.AppendLine("Not part of this run (the full run holds the memory scenario's top level).");
        }
        else
        {
            md.AppendLine("The memory scenario's top level is held, then the generator opens more connections in batches of 100 until one fails. This machine's hard limit of open files (`ulimit -Hn` = 20,000 for every process, the load generator included) ends the ramp before any server fails, so the answer is a lower bound and names the limit that stopped it.");
            md.AppendLine();
            md.AppendLine("| server | connections held | hold s | closed during hold | opened beyond | how it ended |");
            md.AppendLine("| --- | ---: | ---: | ---: | ---: | --- |");
            foreach (var (_, j) in capacities)
            {
                var c = j["Capacity"]!;
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {Server(j)} | {c["Held"]!.GetValue<int>():N0} | {c["HoldSeconds"]!.GetValue<double>():F0} | {c["ClosedDuringHold"]} | {c["OpenedBeyond"]} | {c["Failure"]?.GetValue<string>().Split('\n')[0].TrimEnd('\r') ?? "no failure within the batch limit"} |");
            }
        }

        md.AppendLine();

        md.AppendLine("## 6. Cluster: 2 nodes + one redis-server");
        md.AppendLine();
        md.AppendLine("OrleansRooms: two gateways, each co-hosting an Orleans silo, with their Orleans membership in the redis-server (broadcasts go between the silos by direct gateway-grain calls, not through Redis). Node: two socket.io servers with `@socket.io/redis-adapter`. SignalR: two ASP.NET Core SignalR servers with the Redis backplane. Receivers alternate between the nodes, so every room has members on both; publishers are all on the first node. CPU per delivery is the two servers' together; Redis's is beside it. Join/leave on the cluster is in section 3.");
        md.AppendLine();
        var cluster = runs.Where(r => r.Key.StartsWith("cluster-", StringComparison.Ordinal)).ToList();
        FixedRateTables(md, chart, cluster, "cluster ");
        BroadcastTables(md, chart, cluster, "cluster ");
        md.AppendLine("## 7. Compression (permessage-deflate)");
        md.AppendLine();
        md.AppendLine("OrleansRooms without and with `PerMessageDeflate`, at the same fixed rate (see Method): the difference in server CPU per delivery is the cost of compressing each broadcast once (docs/compression.md). Not charted.");
        md.AppendLine();
        FixedRateTables(md, [], runs.Where(r => r.Key.StartsWith("compression-", StringComparison.Ordinal)).ToList(), "compression, ");

        File.WriteAllText(mdPath, md.ToString());
        File.WriteAllText(svgPath, Svg(chart, quick));
    }

    // Hand-written findings of the last full run (what limited each figure), kept beside the harness.
    private const string AnalysisPath = "bench/analysis.md";

    /// <summary>The goals, each against the figures of this run.</summary>
    private static void Goals(StringBuilder md, List<(string Key, JsonNode Json)> runs)
    {
        JsonNode? Find(string key) => runs.FirstOrDefault(r => r.Key == key).Json;
        var rows = new List<(string Goal, string Measured, Verdict Met)>();

        // CPU per delivery at the fixed rate: the steadiest comparison (see the report's first paragraph).
        foreach (var room in new[] { 1, 10, 1000 })
        {
            var v = $"r{room}-p100";
            if (Find($"broadcast-{v}-{Ours}") is null && Find($"broadcast-{v}-{Baseline}") is null)
            {
                continue; // a room size this run left out (--quick)
            }

            var ours = Cpu(Find($"broadcast-{v}-{Ours}"));
            var parts = new List<string> { $"{Ours} {ours.Text}" };
            var verdicts = new List<Verdict>();
            foreach (var peer in s_peers)
            {
                var theirs = Cpu(Find($"broadcast-{v}-{peer}"));
                var factor = peer == Baseline ? 0.5 : 1;
                verdicts.Add(CpuVerdict(ours, theirs, factor, strict: peer != Baseline));
                parts.Add(ours.Micros is { } o && theirs.Micros is { } t && t > 0
                    ? string.Create(CultureInfo.InvariantCulture, $"{peer} {theirs.Text} ({o / t:F2}×)")
                    : $"{peer} {theirs.Text}");
            }

            rows.Add(($"broadcast CPU per delivery at the fixed rate, rooms of {room:N0}: ≤ 0.5× node's, below bun's and signalr's",
                string.Join("; ", parts), Combine(verdicts)));
        }

        // Max sustained: compared by brackets, so a difference smaller than the bisection left is not read as a lead.
        var variants = runs.Where(r => r.Key.StartsWith("broadcast-", StringComparison.Ordinal) && HasRamp(r.Json))
            .Select(r => Variant(r.Key)).Distinct().ToList();
        foreach (var v in variants)
        {
            rows.Add(ThroughputGoal($"broadcast {v} deliveries/s: ≥ 0.95× raw Kestrel, ahead of node, bun and signalr",
                Find($"broadcast-{v}-{Ours}"), [(Ceiling, Find($"broadcast-{v}-{Ceiling}"), 0.95), .. s_peers.Select(p => (p, Find($"broadcast-{v}-{p}"), 1.0))]));
        }

        foreach (var v in variants)
        {
            var ours = Find($"broadcast-{v}-{Ours}")?["AtHalf"]?["P99Ms"]?.GetValue<double>();
            var theirs = Find($"broadcast-{v}-{Baseline}")?["AtHalf"]?["P99Ms"]?.GetValue<double>();
            rows.Add(($"p99 at half load {v}: ≤ node's",
                ours is null || theirs is null ? "not measured" : string.Create(CultureInfo.InvariantCulture, $"{ours:F2} ms vs {theirs:F2} ms"),
                ours is null || theirs is null ? Verdict.NotMeasured : ours <= theirs ? Verdict.Yes : Verdict.No));
        }

        var memOurs = Find($"memory-{Ours}")?["BytesPerConnection"]?.GetValue<double>();
        var memNode = Find($"memory-{Baseline}")?["BytesPerConnection"]?.GetValue<double>();
        rows.Add(("idle memory per connection: ≤ 0.5× node's",
            memOurs is null || memNode is not > 0 ? "not measured" : string.Create(CultureInfo.InvariantCulture, $"{memOurs:N0} vs {memNode:N0} bytes: {memOurs / memNode:F2}×"),
            memOurs is null || memNode is not > 0 ? Verdict.NotMeasured : memOurs / memNode <= 0.5 ? Verdict.Yes : Verdict.No));

        string[] clusterPeers = ["node", "signalr"];
        foreach (var v in runs.Where(r => r.Key.StartsWith("cluster-", StringComparison.Ordinal)).Select(r => Variant(r.Key)).Distinct())
        {
            rows.Add(ThroughputGoal($"cluster {v} deliveries/s: ahead of 2 node + redis-adapter and of 2 signalr + Redis backplane",
                Find($"cluster-{v}-{Ours}"), [.. clusterPeers.Select(p => (p, Find($"cluster-{v}-{p}"), 1.0))]));
            var ours = Cpu(Find($"cluster-{v}-{Ours}"), withRedis: true);
            var parts = new List<string> { $"{Ours} {ours.Text}" };
            var verdicts = new List<Verdict>();
            foreach (var peer in clusterPeers)
            {
                var theirs = Cpu(Find($"cluster-{v}-{peer}"), withRedis: true);
                verdicts.Add(CpuVerdict(ours, theirs, 1, strict: true));
                parts.Add($"{peer} {theirs.Text}");
            }

            rows.Add(($"cluster {v} CPU per delivery at the fixed rate (servers + Redis): below node's and signalr's", string.Join("; ", parts), Combine(verdicts)));
        }

        md.AppendLine("## Goals");
        md.AppendLine();
        md.AppendLine("Where a goal compares maximum rates, \"within the bracket\" means the two servers' brackets (section 2) overlap: this run cannot tell which is ahead. \"-\" means a figure the goal needs was not measured.");
        md.AppendLine();
        md.AppendLine("| goal | this run | met |");
        md.AppendLine("| --- | --- | --- |");
        foreach (var (goal, measured, met) in rows)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {goal} | {measured} | {met switch { Verdict.Yes => "yes", Verdict.No => "**no**", Verdict.WithinBracket => "within the bracket", _ => "-" }} |");
        }

        md.AppendLine();
    }

    private enum Verdict
    {
        Yes,
        No,
        WithinBracket,
        NotMeasured,
    }

    /// <summary>No if any part failed; else within the bracket if any part could not tell; else not measured if a part lacks figures.</summary>
    private static Verdict Combine(List<Verdict> parts) =>
        parts.Contains(Verdict.No) ? Verdict.No
        : parts.Contains(Verdict.WithinBracket) ? Verdict.WithinBracket
        : parts.Count == 0 || parts.Contains(Verdict.NotMeasured) ? Verdict.NotMeasured
        : Verdict.Yes;

    private static (string Goal, string Measured, Verdict Met) ThroughputGoal(string goal, JsonNode? ours, (string Server, JsonNode? Json, double Factor)[] others)
    {
        if (ours is null || !HasRamp(ours))
        {
            return (goal, "not measured", Verdict.NotMeasured);
        }

        var parts = new List<string> { $"{Ours} {Bracketed(ours)}" };
        var verdicts = new List<Verdict>();
        foreach (var (server, theirs, factor) in others)
        {
            if (theirs is null || !HasRamp(theirs))
            {
                parts.Add($"{server} not measured");
                verdicts.Add(Verdict.NotMeasured);
                continue;
            }

            parts.Add(Max(theirs) > 0
                ? string.Create(CultureInfo.InvariantCulture, $"{server} {Bracketed(theirs)} ({Max(ours) / Max(theirs):F2}×)")
                : $"{server} {Bracketed(theirs)}");
            verdicts.Add(AtLeast(Bracket(ours), Bracket(theirs), factor));
        }

        return (goal, string.Join("; ", parts), Combine(verdicts));
    }

    /// <summary>Whether ours ≥ factor × theirs when each true maximum lies in [Lo, Hi) (Hi null: nothing above Lo failed).</summary>
    private static Verdict AtLeast((double Lo, double? Hi) ours, (double Lo, double? Hi) theirs, double factor) =>
        theirs.Hi is { } theirsHi && ours.Lo >= factor * theirsHi ? Verdict.Yes
        : ours.Hi is { } oursHi && oursHi <= factor * theirs.Lo ? Verdict.No
        : Verdict.WithinBracket;

    private static Verdict CpuVerdict((double? Micros, string Text, bool Present) ours, (double? Micros, string Text, bool Present) theirs, double factor, bool strict) =>
        !ours.Present ? Verdict.NotMeasured
        : ours.Micros is not { } o ? Verdict.No // present but did not hold the rate every peer is expected to hold
        : theirs.Micros is not { } t ? Verdict.NotMeasured
        : (strict ? o < factor * t : o <= factor * t) ? Verdict.Yes : Verdict.No;

    /// <summary>Server CPU µs per delivery at the fixed rate, null where the rate did not hold or was not run.</summary>
    private static (double? Micros, string Text, bool Present) Cpu(JsonNode? run, bool withRedis = false)
    {
        if (run?["FixedRate"] is not JsonObject f)
        {
            return (null, "not measured", false);
        }

        if (!f["Held"]!.GetValue<bool>())
        {
            return (null, "did not hold the rate", true);
        }

        var micros = f["ServerCpuMicrosPerDelivery"]!.GetValue<double>() + (withRedis ? f["RedisCpuMicrosPerDelivery"]!.GetValue<double>() : 0);
        return (micros, string.Create(CultureInfo.InvariantCulture, $"{micros:F2} µs"), true);
    }

    private static bool HasRamp(JsonNode run) => run["Ramp"] is JsonArray { Count: > 0 } || run["Best"] is JsonObject;

    /// <summary>The best sustained target (a sustained step delivered at least 99 % of it); older results: the delivered rate.</summary>
    private static double Max(JsonNode run) =>
        run["BestTarget"]?.GetValue<double>() ?? run["MaxSustainedDeliveriesPerSecond"]!.GetValue<double>();

    /// <summary>The answer's bracket: the best sustained target (or, in older results, the delivered rate) and the lowest failed target.</summary>
    private static (double Lo, double? Hi) Bracket(JsonNode run) =>
        (Max(run), run["LowestFailedTarget"]?.GetValue<double>() ?? LowestFailed(run));

    // Results written before the bracket was recorded: the lowest failed target above the best one in the ramp.
    private static double? LowestFailed(JsonNode run)
    {
        var max = Max(run);
        var failed = run["Ramp"]!.AsArray().Where(s => !s!["Sustained"]!.GetValue<bool>() && s["TargetDeliveriesPerSecond"]!.GetValue<double>() > max)
            .Select(s => s!["TargetDeliveriesPerSecond"]!.GetValue<double>()).ToList();
        return failed.Count == 0 ? null : failed.Min();
    }

    /// <summary>"95,072 (&lt; 99,800)": max sustained with the lowest failed target above it, so no ratio is read finer than measured.</summary>
    private static string Bracketed(JsonNode run)
    {
        var (max, hi) = Bracket(run);
        return (max, hi) switch
        {
            (0, { } h) => string.Create(CultureInfo.InvariantCulture, $"none sustained (< {h:N0})"),
            (_, { } h) => string.Create(CultureInfo.InvariantCulture, $"{max:N0} (< {h:N0})"),
            ( > 0, null) => string.Create(CultureInfo.InvariantCulture, $"{max:N0} (no step failed)"),
            _ => "none sustained",
        };
    }

    private const string Method = """
        ## Method

        - **Load generator** (`bench/LoadGenerator`, C#): raw sockets, a hand-written WebSocket client (HTTP upgrade, masked frames), Engine.IO v4 open and ping/pong, Socket.IO `40` connect and acks. Every client's socket is read by **one thread over an epoll set of its own** (non-blocking `recv`, no thread-pool hop per message); handshakes use blocking calls so the runtime's own epoll never sees these sockets. Publishers send `42["pub",room,payload]`; the payload starts with a 10-digit sequence number and the **intended** send time (Stopwatch ticks, 19 digits), so each server's `42["msg",payload]` is read at a fixed offset without parsing JSON. Publishing is **open loop**: message *n* is due at *start + n/rate* and carries that time, so a publisher that falls behind shows up as latency (no coordinated omission); between due messages the publisher sleeps (`usleep`), it never spins. Latency is receive time minus intended send time, recorded in a log-linear histogram (64 sub-buckets per power of two, within 1.6 %).
        - **The same application on every server**: namespace `/`, `join(room, ack)`, `leave(room, ack)`, `pub(room, payload)` broadcasting `msg` to the room. OrleansRooms: `bench/Servers/OrleansRooms` (`AddSocketIO`/`MapSocketIO`, WebSocket only). Node: `bench/servers/node/server.mjs`, the official `socket.io` server installed by `npm ci` from the lock file, `transports: ["websocket"]`, `perMessageDeflate: false`. Ceiling: `bench/Servers/RawKestrel`, Kestrel with its own RFC 6455 framing over the HTTP upgrade: it answers the open packet, `40` and acks, keeps rooms as arrays, frames a pub's payload once as `42["msg",...]` and writes those bytes into each member's pipe on the publishing thread; no Socket.IO parser, no heartbeat.
        - **Two more peers**: `bun` is the same `socket.io` server and `server.mjs` application on Bun (`bench/servers/bun`; Bun, `socket.io` and `@socket.io/bun-engine` installed by `npm ci` from the lock file, versions in the header), bound to `@socket.io/bun-engine` so that `Bun.serve` and Bun's own WebSocket server stand in for engine.io on `node:http` and `ws`; it refuses everything but WebSocket upgrades, per-message deflate off; single node only. `signalr` is ASP.NET Core SignalR (`bench/Servers/SignalR`, the same runtime settings as the other .NET servers): a hub at `/bench` whose `Join(room)` and `Leave(room)` complete when the group change is done (that completion is the ack) and whose `Pub(room, payload)` sends `msg` to the group; the JSON hub protocol over WebSockets only, with negotiation skipped (the generator's upgrade goes straight to the hub path, then the `{"protocol":"json","version":1}` handshake); each client pings every 10 s as the official clients do. Its cluster rows run two such servers on the Redis backplane (`Microsoft.AspNetCore.SignalR.StackExchangeRedis`).
        - **Runtime settings**: both .NET servers run with server GC and `System.Threading.ThreadPool.UnfairSemaphoreSpinLimit=0`, the setting `src/Gateway/Host` ships with (see docs/configuration.md, "Runtime settings"): without it idle pool threads spin on `sched_yield` and took a quarter of the gateway's CPU samples on these 2 shared cores.
        - **CPU**: `orleansrooms` and `raw-kestrel` may use both cores; `orleansrooms-1core` runs under `taskset -c 0` with `DOTNET_PROCESSOR_COUNT=1`; Node runs unpinned (its JavaScript runs on one thread; V8 and libuv have helper threads). Server CPU seconds are `utime + stime` from `/proc/<pid>/stat` over the step; the generator's own CPU is shown beside it. Both share the same 2 cores, and the kernel's loopback TCP work (softirq) is charged to neither: at the top rates the machine, not one process, is full, so every figure is a lower bound for a server with cores of its own.
        - **Broadcast**: receivers join rooms of the given size; separate publisher connections (not members) publish round-robin over the rooms. A "delivery" is one `msg` frame received by one client. Each row is one server process: connect and join, a warm-up step (not reported), the fixed-rate steps, then the ramp. After a step that left deliveries missing, the generator waits until they stop arriving before the next.
        - **Fixed rate** (section 1, and the cluster's and compression's first tables): the same target delivery rate for every server, per room size, about half of the slowest peer's max sustained rate in past runs (the rates and why are in `bench/run`), over several steps of equal length. Server CPU µs per delivery is the server's CPU over a step (its drain included) divided by the deliveries received in it; each figure is the median over the steps. The rate **held** if every step delivered at least 99 % within the step plus the drain time; a server that did not hold it gets no CPU figure, because its CPU would be that of a different load.
        - **Ramp**: from the fixed rate (or `--start-rate` where a row has none) the target doubles each step until a step fails (p99 > 50 ms, or fewer than 99 % of the deliveries arrive within the step plus the drain time), or halves from a start that already failed; a failed step is always run once more, because one stall of a few hundred milliseconds fails a short step by itself. Then steps bisect (geometrically) between the best passing and the lowest failed target until the failed one is within 5 % of the passing one, or the step budget runs out. **Max sustained** is the highest target a step sustained (it delivered at least 99 % of it), printed with the lowest failed target beside it: "95,072 (< 99,800)" means the answer lies between the two. p50/p99/p99.9 are then measured at half of it.
        - **Compression** (section 7; rooms of 10, 2048-byte payload): `orleansrooms-deflate` is the same server with `PerMessageDeflate` on (threshold 1024, `Optimal`), every client offering `permessage-deflate`; the payload is random lowercase words, which deflate to about 60 % as text does. Both rows run the fixed-rate steps only (no ramp), so the CPU per delivery compares the two at equal load; the generator's CPU includes inflating what it receives.
        """;

    /// <summary>
    /// The fixed-rate figures: for the single-node rows a summary (servers by room size) then one table per row; a
    /// server that did not hold the rate shows that instead of a figure.
    /// </summary>
    private static void FixedRateTables(StringBuilder md, List<(string, string, List<(string, double)>)> chart,
        List<(string Key, JsonNode Json)> runs, string prefix)
    {
        var groups = runs.Where(r => r.Json["FixedRate"] is JsonObject).GroupBy(r => Variant(r.Key)).ToList();
        if (groups.Count == 0)
        {
            md.AppendLine("No fixed-rate steps in this run.");
            md.AppendLine();
            return;
        }

        if (prefix.Length == 0)
        {
            md.AppendLine("| server | " + string.Join(" | ", groups.Select(g => Title(g.First().Json))) + " |");
            md.AppendLine("| --- | " + string.Join(" | ", groups.Select(_ => "---:")) + " |");
            foreach (var server in Sorted(groups.SelectMany(g => g)).Select(r => Server(r.Json)).Distinct())
            {
                var cells = groups.Select(g =>
                {
                    var ours = Cpu(g.FirstOrDefault(r => Server(r.Json) == server).Json);
                    var node = Cpu(g.FirstOrDefault(r => Server(r.Json) == Baseline).Json);
                    return ours.Micros is { } o && node.Micros is { } n && n > 0 && server != Baseline
                        ? string.Create(CultureInfo.InvariantCulture, $"{ours.Text} ({o / n:F2}× node)")
                        : ours.Present ? ours.Text : "-";
                });
                md.AppendLine($"| {server} | {string.Join(" | ", cells)} |");
            }

            md.AppendLine();
            md.AppendLine("Server CPU µs per delivery at the fixed rate (median of the steps); the rates and the details are in the tables below.");
            md.AppendLine();
        }

        foreach (var group in groups)
        {
            var rows = Sorted(group);
            var first = rows[0].Json;
            var f = first["FixedRate"]!;
            var nodes = first["Nodes"]!.GetValue<int>();
            md.AppendLine(CultureInfo.InvariantCulture,
                $"**{prefix}{Title(first)} at {f["TargetDeliveriesPerSecond"]!.GetValue<double>():N0} deliveries/s** ({first["Connections"]:N0} receivers in {first["Rooms"]} rooms, {first["Publishers"]} publishers, {nodes} node(s); {f["Steps"]!.AsArray().Count} steps)");
            md.AppendLine();
            md.AppendLine("| server | server CPU µs per delivery | vs node | generator CPU µs per delivery | Redis CPU µs per delivery | p50 ms | p99 ms | lowest step delivered | held |");
            md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
            var node = Cpu(rows.FirstOrDefault(r => Server(r.Json) == Baseline).Json);
            var bars = new List<(string, double)>();
            foreach (var (_, j) in rows)
            {
                var fixedRate = j["FixedRate"]!;
                var cpu = Cpu(j);
                var held = fixedRate["Held"]!.GetValue<bool>();
                string Micros(string field) => held ? fixedRate[field]!.GetValue<double>().ToString("F2", CultureInfo.InvariantCulture) : "-";
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {Server(j)} | {(held ? cpu.Text.Replace(" µs", "", StringComparison.Ordinal) : "**did not hold**")} | {(cpu.Micros is { } c ? Ratio(c, node.Micros) : "-")} | {Micros("GeneratorCpuMicrosPerDelivery")} | {(nodes < 2 ? "-" : Micros("RedisCpuMicrosPerDelivery"))} | {(held ? Ms(fixedRate["P50Ms"]) : "-")} | {(held ? Ms(fixedRate["P99Ms"]) : "-")} | {fixedRate["MinDeliveredFraction"]!.GetValue<double>():P1} | {(held ? "yes" : "**no**")} |");
                bars.Add((Server(j), cpu.Micros ?? double.NaN));
            }

            md.AppendLine();
            chart.Add(($"{prefix}{Title(first)}", string.Create(CultureInfo.InvariantCulture, $"server CPU µs per delivery at {f["TargetDeliveriesPerSecond"]!.GetValue<double>():N0}/s"), bars));
        }
    }

    private static string Title(JsonNode run) =>
        string.Create(CultureInfo.InvariantCulture, $"rooms of {run["RoomSize"]!.GetValue<int>():N0}, {run["PayloadBytes"]} B");

    private static void BroadcastTables(StringBuilder md, List<(string, string, List<(string, double)>)> chart,
        List<(string Key, JsonNode Json)> runs, string prefix)
    {
        foreach (var group in runs.Where(r => HasRamp(r.Json)).GroupBy(r => Variant(r.Key)))
        {
            var rows = Sorted(group);
            var first = rows[0].Json;
            var baseline = rows.FirstOrDefault(r => Server(r.Json) == Baseline).Json is { } b ? Max(b) : (double?)null;
            var ceiling = rows.FirstOrDefault(r => Server(r.Json) == Ceiling).Json is { } c ? Max(c) : (double?)null;
            md.AppendLine(CultureInfo.InvariantCulture,
                $"**{prefix}rooms of {first["RoomSize"]}, {first["PayloadBytes"]}-byte payload** ({first["Connections"]:N0} receivers in {first["Rooms"]} rooms, {first["Publishers"]} publishers, {first["Nodes"]} node(s))");
            md.AppendLine();
            md.AppendLine("| server | max sustained deliveries/s (< lowest failed target) | vs node | vs raw Kestrel | p50 ms at half | p99 ms at half | p99.9 ms at half | server CPU µs per delivery at max | lowest failed step |");
            md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
            var rate = new List<(string, double)>();
            var p99 = new List<(string, double)>();
            foreach (var (_, j) in rows)
            {
                var max = Max(j);
                var best = j["Best"];
                var half = j["AtHalf"];
                var perDelivery = best is null ? "-" : (best["ServerCpuSeconds"]!.GetValue<double>() * 1e6 / Math.Max(best["Received"]!.GetValue<long>(), 1)).ToString("F2", CultureInfo.InvariantCulture);
                var lowestFailed = Bracket(j).Hi;
                var failed = lowestFailed is null ? null : j["Ramp"]!.AsArray().LastOrDefault(s => !s!["Sustained"]!.GetValue<bool>() && s["TargetDeliveriesPerSecond"]!.GetValue<double>() == lowestFailed);
                var why = failed is null ? "none (ramp ended)" : string.Create(CultureInfo.InvariantCulture,
                    $"{failed["TargetDeliveriesPerSecond"]!.GetValue<double>():N0}/s: {failed["DeliveredFraction"]!.GetValue<double>():P1} delivered, p99 {Ms(failed["P99Ms"])} ms");
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {Server(j)} | {Bracketed(j)} | {Ratio(max, baseline)} | {Ratio(max, ceiling)} | {Ms(half?["P50Ms"])} | {Ms(half?["P99Ms"])} | {Ms(half?["P999Ms"])} | {perDelivery} | {why} |");
                rate.Add((Server(j), max));
                p99.Add((Server(j), half?["P99Ms"]?.GetValue<double>() ?? double.NaN));
            }

            md.AppendLine();
            var title = prefix + Title(first);
            chart.Add((title, "max deliveries/s", rate));
            chart.Add((title, "p99 ms at half", p99));
        }
    }

    private static string Svg(List<(string Title, string Unit, List<(string Server, double Value)> Bars)> panels, bool quick)
    {
        // Two columns of panels, each as tall as its longest list of bars, so 7 servers fit without overlapping.
        const int PanelW = 380, Cols = 2, BarH = 14, Gap = 4, LabelW = 130, BarMaxW = 170;
        string[] colors = ["#2f6db5", "#5b8fd1", "#9cbfe8", "#d9822b", "#e3b23c", "#6a3d9a", "#7f7f7f"];
        var barsMax = panels.Count == 0 ? 1 : panels.Max(p => p.Bars.Count);
        var panelH = 34 + (barsMax * (BarH + Gap)) + 14;
        var rowsCount = (panels.Count + Cols - 1) / Cols;
        var width = (PanelW * Cols) + 20;
        var height = (panelH * rowsCount) + 50;
        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">OrleansRooms and its peers (docs/benchmarks.md){(quick ? " — quick run, indicative only" : "")}</text>");
        for (var p = 0; p < panels.Count; p++)
        {
            var (title, unit, bars) = panels[p];
            var x0 = 10 + ((p % Cols) * PanelW);
            var y0 = 36 + ((p / Cols) * panelH);
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x0}\" y=\"{y0 + 12}\" font-weight=\"bold\">{title}</text>");
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x0}\" y=\"{y0 + 26}\">{unit}</text>");
            var max = Math.Max(bars.Select(b => double.IsFinite(b.Value) ? b.Value : 0).DefaultIfEmpty(0).Max(), 1e-9);
            for (var i = 0; i < bars.Count; i++)
            {
                var (server, value) = bars[i];
                var y = y0 + 32 + (i * (BarH + Gap));
                var w = double.IsFinite(value) ? BarMaxW * value / max : 0;
                var color = colors[Math.Max(Array.IndexOf(s_order, server), 0) % colors.Length];
                svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x0}\" y=\"{y + 11}\">{server}</text>");
                svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{x0 + LabelW}\" y=\"{y}\" width=\"{w:F1}\" height=\"{BarH}\" fill=\"{color}\"/>");
                svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x0 + LabelW + 4 + w:F1}\" y=\"{y + 11}\">{Format(value)}</text>");
            }
        }

        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static string Format(double v) =>
        !double.IsFinite(v) ? "did not hold" : v >= 1000 ? v.ToString("N0", CultureInfo.InvariantCulture) : v.ToString("G3", CultureInfo.InvariantCulture);

    private static List<(string Key, JsonNode Json)> Sorted(IEnumerable<(string Key, JsonNode Json)> runs) =>
        [.. runs.OrderBy(r => Array.IndexOf(s_order, Server(r.Json)) is var i and >= 0 ? i : 99)];

    // "broadcast-r10-p100-node" -> "r10-p100"; "joinleave-cluster-node" -> "cluster".
    private static string Variant(string key)
    {
        var parts = key.Split('-');
        var serverParts = s_order.FirstOrDefault(s => key.EndsWith("-" + s, StringComparison.Ordinal))?.Split('-').Length ?? 1;
        return string.Join('-', parts[1..^serverParts]);
    }

    private static string Server(JsonNode j) => j["Server"]!.GetValue<string>();

    private static string Ratio(double value, double? baseline) =>
        baseline is > 0 ? (value / baseline.Value).ToString("F2", CultureInfo.InvariantCulture) + "×" : "-";

    private static string Ms(JsonNode? v) =>
        v is null || v.GetValue<double>() < 0 ? "-" : v.GetValue<double>().ToString("F2", CultureInfo.InvariantCulture);

    private static string Cpu(JsonNode? v, JsonNode? nodes) =>
        v is null || nodes?.GetValue<int>() < 2 ? "-" : v.GetValue<double>().ToString("F2", CultureInfo.InvariantCulture);
}
