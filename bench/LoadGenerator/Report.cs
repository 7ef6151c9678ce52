using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace OrleansRooms.LoadGenerator;

/// <summary>Turns the JSON results of one bench/run into docs/benchmarks.md and an SVG chart drawn from the same numbers.</summary>
internal static class Report
{
    private const string Baseline = "node";
    private const string Ceiling = "raw-kestrel";
    private static readonly string[] s_order = ["orleansrooms", "orleansrooms-deflate", "orleansrooms-1core", "node", "bun", "signalr", "raw-kestrel"];

    public static void Write(string results, string mdPath, string svgPath)
    {
        var runs = Directory.GetFiles(results, "*.json").Order(StringComparer.Ordinal)
            .Select(f => (Key: Path.GetFileNameWithoutExtension(f), Json: JsonNode.Parse(File.ReadAllText(f))!))
            .ToList();
        var meta = File.Exists(Path.Combine(results, "meta.txt")) ? File.ReadAllLines(Path.Combine(results, "meta.txt")) : [];
        var quick = meta.Any(l => l.StartsWith("mode: quick", StringComparison.Ordinal));
        var md = new StringBuilder();
        var chart = new List<(string Title, string Unit, List<(string Server, double Value)> Bars)>();

        md.AppendLine("# Benchmarks: OrleansRooms vs socket.io on Node.js");
        md.AppendLine();
        md.AppendLine(quick
            ? "**This is a quick run (`bench/run --quick`): 1,000 connections and one-second ramp steps. It is a smoke test; its numbers are indicative only. `bench/run` without `--quick` runs the full configuration.**"
            : "Full run (`bench/run`).");
        md.AppendLine();
        if (quick)
        {
            md.AppendLine("How to read a quick run: steps last one second and there are few of them, so one stall of a few tens of milliseconds anywhere (server, load generator, GC, another process) puts p99 over 50 ms and ends the ramp. Treat the ratios as a smoke test that the harness works, not as the answer to the issue.");
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

        md.AppendLine("## 1. Broadcast throughput (single node)");
        md.AppendLine();
        BroadcastTables(md, chart, runs.Where(r => r.Key.StartsWith("broadcast-", StringComparison.Ordinal)).ToList(), "");
        md.AppendLine("## 2. Join/leave (acknowledged pairs, closed loop)");
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

        md.AppendLine("## 3. Idle memory");
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

        md.AppendLine("## 4. Connection capacity");
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

        md.AppendLine("## 5. Cluster: 2 nodes + one redis-server");
        md.AppendLine();
        md.AppendLine("OrleansRooms: two gateways, each co-hosting an Orleans silo, with their Orleans membership in the redis-server (broadcasts go between the silos by direct gateway-grain calls, not through Redis). Node: two socket.io servers with `@socket.io/redis-adapter`. Receivers alternate between the nodes, so every room has members on both; publishers are all on the first node. Join/leave on the cluster is in section 2.");
        md.AppendLine();
        BroadcastTables(md, chart, runs.Where(r => r.Key.StartsWith("cluster-", StringComparison.Ordinal)).ToList(), "cluster ");
        md.AppendLine("## 6. Compression (permessage-deflate)");
        md.AppendLine();
        md.AppendLine("OrleansRooms without and with `PerMessageDeflate`, one step at the same fixed rate (see Method): the difference in server CPU per delivery is the cost of compressing each broadcast once (docs/compression.md). Not charted.");
        md.AppendLine();
        BroadcastTables(md, [], runs.Where(r => r.Key.StartsWith("compression-", StringComparison.Ordinal)).ToList(), "compression, ");

        File.WriteAllText(mdPath, md.ToString());
        File.WriteAllText(svgPath, Svg(chart, quick));
    }

    // Hand-written findings of the last full run (what limited each figure), kept beside the harness.
    private const string AnalysisPath = "bench/analysis.md";

    /// <summary>The issue's goals, each against the figures of this run.</summary>
    private static void Goals(StringBuilder md, List<(string Key, JsonNode Json)> runs)
    {
        double? Get(string key, string field) =>
            runs.FirstOrDefault(r => r.Key == key).Json?[field]?.GetValue<double>();
        double? HalfP99(string key) => runs.FirstOrDefault(r => r.Key == key).Json?["AtHalf"]?["P99Ms"]?.GetValue<double>();
        var rows = new List<(string Goal, string Measured, bool? Met)>();
        void Ratio(string goal, double? ours, double? theirs, double target, bool lowerIsBetter = false)
        {
            if (ours is null || theirs is not > 0)
            {
                rows.Add((goal, "not measured", null));
                return;
            }

            var ratio = ours.Value / theirs.Value;
            rows.Add((goal, string.Create(CultureInfo.InvariantCulture, $"{ours:N0} vs {theirs:N0}: {ratio:F2}×"),
                lowerIsBetter ? ratio <= target : ratio >= target));
        }

        var variants = runs.Where(r => r.Key.StartsWith("broadcast-", StringComparison.Ordinal)).Select(r => Variant(r.Key)).Distinct().ToList();
        foreach (var v in variants.Where(v => !v.StartsWith("r1-", StringComparison.Ordinal)))
        {
            Ratio($"broadcast {v}: ≥ 3× node", Get($"broadcast-{v}-orleansrooms", "MaxSustainedDeliveriesPerSecond"),
                Get($"broadcast-{v}-node", "MaxSustainedDeliveriesPerSecond"), 3);
        }

        Ratio("idle memory per connection: ≤ 0.5× node (bytes)", Get("memory-orleansrooms", "BytesPerConnection"), Get("memory-node", "BytesPerConnection"), 0.5, lowerIsBetter: true);
        foreach (var v in variants)
        {
            var ours = HalfP99($"broadcast-{v}-orleansrooms");
            var theirs = HalfP99($"broadcast-{v}-node");
            rows.Add(($"p99 at half load {v}: ≤ node's",
                ours is null || theirs is null ? "not measured" : string.Create(CultureInfo.InvariantCulture, $"{ours:F2} ms vs {theirs:F2} ms"),
                ours is null || theirs is null ? null : ours <= theirs));
        }

        foreach (var v in variants)
        {
            Ratio($"broadcast {v}: ≥ 70 % of raw Kestrel", Get($"broadcast-{v}-orleansrooms", "MaxSustainedDeliveriesPerSecond"),
                Get($"broadcast-{v}-raw-kestrel", "MaxSustainedDeliveriesPerSecond"), 0.7);
        }

        foreach (var v in runs.Where(r => r.Key.StartsWith("cluster-", StringComparison.Ordinal)).Select(r => Variant(r.Key)).Distinct())
        {
            Ratio($"cluster {v}: ≥ 3× node + redis-adapter", Get($"cluster-{v}-orleansrooms", "MaxSustainedDeliveriesPerSecond"),
                Get($"cluster-{v}-node", "MaxSustainedDeliveriesPerSecond"), 3);
        }

        md.AppendLine("## Goals");
        md.AppendLine();
        md.AppendLine("| goal | this run (OrleansRooms vs peer) | met |");
        md.AppendLine("| --- | --- | --- |");
        foreach (var (goal, measured, met) in rows)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {goal} | {measured} | {(met is null ? "-" : met.Value ? "yes" : "**no**")} |");
        }

        md.AppendLine();
    }

    private const string Method = """
        ## Method

        - **Load generator** (`bench/LoadGenerator`, C#): raw sockets, a hand-written WebSocket client (HTTP upgrade, masked frames), Engine.IO v4 open and ping/pong, Socket.IO `40` connect and acks. Every client's socket is read by **one thread over an epoll set of its own** (non-blocking `recv`, no thread-pool hop per message); handshakes use blocking calls so the runtime's own epoll never sees these sockets. Publishers send `42["pub",room,payload]`; the payload starts with a 10-digit sequence number and the **intended** send time (Stopwatch ticks, 19 digits), so each server's `42["msg",payload]` is read at a fixed offset without parsing JSON. Publishing is **open loop**: message *n* is due at *start + n/rate* and carries that time, so a publisher that falls behind shows up as latency (no coordinated omission); between due messages the publisher sleeps (`usleep`), it never spins. Latency is receive time minus intended send time, recorded in a log-linear histogram (64 sub-buckets per power of two, within 1.6 %).
        - **The same application on every server**: namespace `/`, `join(room, ack)`, `leave(room, ack)`, `pub(room, payload)` broadcasting `msg` to the room. OrleansRooms: `bench/Servers/OrleansRooms` (`AddSocketIO`/`MapSocketIO`, WebSocket only). Node: `bench/servers/node/server.mjs`, the official `socket.io` server installed by `npm ci` from the lock file, `transports: ["websocket"]`, `perMessageDeflate: false`. Ceiling: `bench/Servers/RawKestrel`, Kestrel with its own RFC 6455 framing over the HTTP upgrade: it answers the open packet, `40` and acks, keeps rooms as arrays, frames a pub's payload once as `42["msg",...]` and writes those bytes into each member's pipe on the publishing thread; no Socket.IO parser, no heartbeat.
        - **Two more peers**: `bun` is the same `socket.io` server and `server.mjs` application on Bun (`bench/servers/bun`; Bun, `socket.io` and `@socket.io/bun-engine` installed by `npm ci` from the lock file, versions in the header), bound to `@socket.io/bun-engine` so that `Bun.serve` and Bun's own WebSocket server stand in for engine.io on `node:http` and `ws`; it refuses everything but WebSocket upgrades, per-message deflate off; single node only. `signalr` is ASP.NET Core SignalR (`bench/Servers/SignalR`, the same runtime settings as the other .NET servers): a hub at `/bench` whose `Join(room)` and `Leave(room)` complete when the group change is done (that completion is the ack) and whose `Pub(room, payload)` sends `msg` to the group; the JSON hub protocol over WebSockets only, with negotiation skipped (the generator's upgrade goes straight to the hub path, then the `{"protocol":"json","version":1}` handshake); each client pings every 10 s as the official clients do. Its cluster rows run two such servers on the Redis backplane (`Microsoft.AspNetCore.SignalR.StackExchangeRedis`).
        - **Runtime settings**: both .NET servers run with server GC and `System.Threading.ThreadPool.UnfairSemaphoreSpinLimit=0`, the setting `src/Gateway/Host` ships with (see docs/configuration.md, "Runtime settings"): without it idle pool threads spin on `sched_yield` and took a quarter of the gateway's CPU samples on these 2 shared cores.
        - **CPU**: `orleansrooms` and `raw-kestrel` may use both cores; `orleansrooms-1core` runs under `taskset -c 0` with `DOTNET_PROCESSOR_COUNT=1`; Node runs unpinned (its JavaScript runs on one thread; V8 and libuv have helper threads). Server CPU seconds are `utime + stime` from `/proc/<pid>/stat` over the step; the generator's own CPU is shown beside it. Both share the same 2 cores, and the kernel's loopback TCP work (softirq) is charged to neither: at the top rates the machine, not one process, is full, so every figure is a lower bound for a server with cores of its own.
        - **Compression** (section 6; rooms of 10, 2048-byte payload): `orleansrooms-deflate` is the same server with `PerMessageDeflate` on (threshold 1024, `Optimal`), every client offering `permessage-deflate`; the payload is random lowercase words, which deflate to about 60 % as text does. Both rows run **one step at the same fixed rate** (no ramp), so "max sustained" is that rate when it was sustained and the CPU per delivery compares the two at equal load; the generator's CPU includes inflating what it receives.
        - **Broadcast ramp**: receivers join rooms of the given size; separate publisher connections (not members) publish round-robin over the rooms. After a warm-up step the target delivery rate doubles each step until a step fails (p99 > 50 ms, or fewer than 99 % of the deliveries arrive within the step plus the drain time) twice in a row, or halves from a start that already failed; a failed step is always run once more, because one stall of a few hundred milliseconds fails a 3-second step by itself; two more steps bisect (geometrically) between the best passing and the first failed rate, which pins the answer within 19 %. **Max sustained** is the delivered rate of the best passing step; p50/p99/p99.9 are then measured at half of it. Between steps the generator waits until deliveries stop arriving. A "delivery" is one `msg` frame received by one client.
        """;

    private static void BroadcastTables(StringBuilder md, List<(string, string, List<(string, double)>)> chart,
        List<(string Key, JsonNode Json)> runs, string prefix)
    {
        foreach (var group in runs.GroupBy(r => Variant(r.Key)))
        {
            var rows = Sorted(group);
            var first = rows[0].Json;
            var baseline = rows.FirstOrDefault(r => Server(r.Json) == Baseline).Json?["MaxSustainedDeliveriesPerSecond"]?.GetValue<double>();
            var ceiling = rows.FirstOrDefault(r => Server(r.Json) == Ceiling).Json?["MaxSustainedDeliveriesPerSecond"]?.GetValue<double>();
            md.AppendLine(CultureInfo.InvariantCulture,
                $"**{prefix}rooms of {first["RoomSize"]}, {first["PayloadBytes"]}-byte payload** ({first["Connections"]:N0} receivers in {first["Rooms"]} rooms, {first["Publishers"]} publishers, {first["Nodes"]} node(s))");
            md.AppendLine();
            md.AppendLine("| server | max sustained deliveries/s | vs node | vs raw Kestrel | p50 ms at half | p99 ms at half | p99.9 ms at half | server CPU µs per delivery at max | generator CPU µs per delivery | Redis CPU µs per delivery | nearest failed step |");
            md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
            var rate = new List<(string, double)>();
            var p99 = new List<(string, double)>();
            foreach (var (_, j) in rows)
            {
                var max = j["MaxSustainedDeliveriesPerSecond"]!.GetValue<double>();
                var best = j["Best"];
                var half = j["AtHalf"]!;
                var perDelivery = best is null ? "-" : (best["ServerCpuSeconds"]!.GetValue<double>() * 1e6 / Math.Max(best["Received"]!.GetValue<long>(), 1)).ToString("F2", CultureInfo.InvariantCulture);
                var generator = best?["GeneratorCpuSeconds"] is null ? "-" : (best["GeneratorCpuSeconds"]!.GetValue<double>() * 1e6 / Math.Max(best["Received"]!.GetValue<long>(), 1)).ToString("F2", CultureInfo.InvariantCulture);
                var redis = best is null || j["Nodes"]!.GetValue<int>() < 2 ? "-" : (best["RedisCpuSeconds"]!.GetValue<double>() * 1e6 / Math.Max(best["Received"]!.GetValue<long>(), 1)).ToString("F2", CultureInfo.InvariantCulture);
                var failed = j["Ramp"]!.AsArray().LastOrDefault(s => !s!["Sustained"]!.GetValue<bool>() && s["TargetDeliveriesPerSecond"]!.GetValue<double>() > max);
                var why = failed is null ? "none (ramp ended)" : string.Create(CultureInfo.InvariantCulture,
                    $"{failed["TargetDeliveriesPerSecond"]!.GetValue<double>():N0}/s: {failed["DeliveredFraction"]!.GetValue<double>():P1} delivered, p99 {Ms(failed["P99Ms"])} ms");
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {Server(j)} | {max:N0} | {Ratio(max, baseline)} | {Ratio(max, ceiling)} | {Ms(half["P50Ms"])} | {Ms(half["P99Ms"])} | {Ms(half["P999Ms"])} | {perDelivery} | {generator} | {redis} | {why} |");
                rate.Add((Server(j), max));
                p99.Add((Server(j), half["P99Ms"]!.GetValue<double>()));
            }

            md.AppendLine();
            var title = string.Create(CultureInfo.InvariantCulture, $"{prefix}rooms of {first["RoomSize"]}, {first["PayloadBytes"]} B");
            chart.Add((title, "max deliveries/s", rate));
            chart.Add((title, "p99 ms at half", p99));
        }
    }

    private static string Svg(List<(string Title, string Unit, List<(string Server, double Value)> Bars)> panels, bool quick)
    {
        const int PanelW = 300, PanelH = 170, Cols = 2, BarH = 22;
        string[] colors = ["#2f6db5", "#7aa6dc", "#d9822b", "#7f7f7f"];
        var rowsCount = (panels.Count + Cols - 1) / Cols;
        var width = (PanelW * Cols) + 20;
        var height = (PanelH * rowsCount) + 60;
        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">OrleansRooms vs socket.io (Node) vs raw Kestrel{(quick ? " — quick run, indicative only" : "")}</text>");
        for (var p = 0; p < panels.Count; p++)
        {
            var (title, unit, bars) = panels[p];
            var x0 = 10 + ((p % Cols) * PanelW);
            var y0 = 40 + ((p / Cols) * PanelH);
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x0}\" y=\"{y0 + 12}\" font-weight=\"bold\">{title}: {unit}</text>");
            var max = bars.Count == 0 ? 1 : Math.Max(bars.Max(b => double.IsFinite(b.Value) ? b.Value : 0), 1e-9);
            for (var i = 0; i < bars.Count; i++)
            {
                var (server, value) = bars[i];
                var y = y0 + 22 + (i * (BarH + 6));
                var w = double.IsFinite(value) ? 150 * value / max : 0;
                var color = colors[Math.Max(Array.IndexOf(s_order, server), 0) % colors.Length];
                svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x0}\" y=\"{y + 15}\">{server}</text>");
                svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{x0 + 110}\" y=\"{y}\" width=\"{w:F1}\" height=\"{BarH}\" fill=\"{color}\"/>");
                svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x0 + 114 + w:F1}\" y=\"{y + 15}\">{Format(value)}</text>");
            }
        }

        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static string Format(double v) =>
        !double.IsFinite(v) ? "n/a" : v >= 1000 ? v.ToString("N0", CultureInfo.InvariantCulture) : v.ToString("G3", CultureInfo.InvariantCulture);

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
