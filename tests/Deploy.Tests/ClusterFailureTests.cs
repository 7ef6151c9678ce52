using System.Globalization;
using System.Text.Json;
using OrleansRooms.Conformance.Infrastructure;
using Xunit.Abstractions;

namespace OrleansRooms.Deploy;

/// <summary>
/// Processes of a cluster started by deploy/run-cluster.sh killed with SIGKILL (no goodbye, as a crash or an OOM kill),
/// seen by official clients of the chat demo on the gateways that survive. Orleans membership (in Redis) notices the
/// dead silo; the surviving gateways take the dead gateway's sockets out of their rooms and rebuild the grains it held.
/// </summary>
public sealed class ClusterFailureTests(ITestOutputHelper output)
{
    private const int Rooms = 8;

    // Generous: the goal with the shipped membership settings is 5 s (measured and reported, not asserted here).
    private const int BoundMs = 20_000;

    // Node helpers for both scenarios: clients on chosen gateways, acknowledgements with a longer timeout (a call may
    // wait for a grain of the dead silo until membership declares it dead), and a's view of the room counts.
    private const string Helpers = """
        const open = (port, name) => io(`http://127.0.0.1:${port}`, { forceNew: true, reconnection: false, transports: ["websocket"], auth: { name } });
        // Connected, and the demo's connection handler done: it ends by sending the room counts. (An event sent at the
        // very moment of the connection, before the server registered its handlers, can be dropped: reported.)
        const ready = (socket) => new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("no room counts within 15 s of connecting")), 15000);
          socket.once("rooms", () => { clearTimeout(timer); resolve(socket); });
          socket.once("connect_error", (e) => { clearTimeout(timer); reject(new Error(`connect_error: ${e.message}`)); });
        });
        const request = (socket, event, ...args) => new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no answer to '${event}' within 15 s`)), 15000);
          socket.emit(event, ...args, (answer) => { clearTimeout(timer); resolve(answer); });
        });
        const countsOf = async (socket, rooms) => { const counts = await request(socket, "rooms"); return rooms.map((room) => counts[room] ?? 0); };
        // The cluster rebuilds itself after a death and no event marks the end: ask every 50 ms until an answer shows
        // `what` (while a grain of the dead process is unreachable a query may fail, and its answer never come). The
        // query answers [shown, what it saw].
        const converge = (what, query, since) => new Promise((resolve, reject) => {
          let asked = 0, answered = 0, last = "no answer";
          const ask = setInterval(() => {
            if (performance.now() - since > BOUND_MS) {
              clearInterval(ask);
              reject(new Error(`${what} not within ${BOUND_MS} ms (${answered} of ${asked} queries answered, the last: ${last})`));
              return;
            }
            asked++;
            query().then(([shown, seen]) => {
              answered++;
              last = JSON.stringify(seen);
              if (shown) {
                clearInterval(ask);
                resolve(Math.round(performance.now() - since));
              }
            }, () => {});
          }, 50);
        });
        const until = async (what, condition, ms) => {
          const deadline = Date.now() + ms;
          while (!condition()) {
            if (Date.now() > deadline) throw new Error(`${what} not within ${ms} ms`);
            await new Promise((r) => setTimeout(r, 20));
          }
        };
        """;

    /// <summary>
    /// Clients a, b and c on gateways 1, 2 and 3 share eight rooms; gateway 2 is killed with SIGKILL. Seen from gateway
    /// 1, b leaves every room (each has a and c, and no more), no room is told twice that b left, and the rooms keep
    /// working: a's message reaches c in each. Reports the time from the kill to b out of every room.
    /// </summary>
    [Fact]
    public async Task A_gateway_killed_with_SIGKILL_has_its_sockets_leave_their_rooms_cluster_wide()
    {
        await using var cluster = await LocalCluster.StartAsync(gateways: 3, nginx: false);
        var victim = cluster.Pids["gateway-2"];
        var prefix = $"f{Guid.NewGuid():N}"[..12];
        var script = Helpers + $$"""
            const BOUND_MS = {{BoundMs}};
            const rooms = Array.from({ length: {{Rooms}} }, (_, i) => `{{prefix}}-${i}`);
            const [a, b, c] = [open({{cluster.GatewayPorts[0]}}, "a"), open({{cluster.GatewayPorts[1]}}, "b"), open({{cluster.GatewayPorts[2]}}, "c")];
            await Promise.all([a, b, c].map(ready));
            const gone = b.id;
            for (const room of rooms) {
              for (const s of [a, b, c]) assert((await request(s, "join", room)).ok, `joined ${room}`);
            }
            eq(await countsOf(a, rooms), rooms.map(() => 3), "a, b and c in every room");

            // The demo tells a room when a member's gateway is lost ("left" with the member's id and no name).
            const told = [];
            let firstTold = null;
            const killed = performance.now();
            a.on("left", (e) => { if (e.id === gone) { told.push(e.room); firstTold ??= Math.round(performance.now() - killed); } });
            process.kill({{victim}}, "SIGKILL");

            const outMs = await converge("b out of every room, seen from gateway 1", async () => { const n = await countsOf(a, rooms); return [n.every((x) => x === 2), n]; }, killed);
            assert(new Set(told).size === told.length, `a room was told twice that b left: ${told}`);

            // The rooms still deliver across the surviving gateways.
            const heard = record(c, "chat");
            for (const room of rooms) assert((await request(a, "chat", { room, text: "still here" })).ok, `chat in ${room}`);
            await until("c hearing a in every room", () => heard.length >= rooms.length, 10000);
            eq(heard.map((m) => m.room).sort(), [...rooms].sort(), "c heard a once in each room");
            console.log(JSON.stringify({ outMs, firstTold, told: told.length }));
            """;

        var result = await RunAsync(cluster, script);
        Assert.False(LocalCluster.IsAlive(victim), "gateway 2 still runs");
        var status = await LocalCluster.RunScriptAsync(["status", "--run-dir", cluster.RunDir]);
        Assert.Contains("gateway-2 DOWN", status.Output, StringComparison.Ordinal);
        Assert.Equal(1, status.ExitCode);

        var outMs = result.GetProperty("outMs").GetInt32();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"gateway killed with SIGKILL: its socket out of all {Rooms} rooms, seen from another gateway, after {outMs} ms; first 'left' notice after {result.GetProperty("firstTold")} ms; {result.GetProperty("told").GetInt32()} of {Rooms} rooms told"));
        Assert.InRange(outMs, 0, BoundMs);
    }

    /// <summary>
    /// With connection state recovery on, client b is on gateway 2 (through a relay, as behind a load balancer) while a,
    /// on gateway 1, chats in their room back to back; gateway 2 is killed with SIGKILL and the relay sends b's
    /// reconnection to gateway 3. b is recovered (same id, its room) and hears every message once, in order.
    /// </summary>
    [Fact]
    public async Task A_client_whose_gateway_is_killed_with_SIGKILL_recovers_through_another_with_every_message()
    {
        await using var cluster = await LocalCluster.StartAsync(gateways: 3, nginx: false, new Dictionary<string, string>
        {
            ["SocketIO__ConnectionStateRecovery__MaxDisconnectionDuration"] = "00:01:00",
        });
        var victim = cluster.Pids["gateway-2"];
        var room = $"r{Guid.NewGuid():N}"[..12];
        var script = Helpers + $$"""
            import net from "node:net";
            let target = {{cluster.GatewayPorts[1]}};
            const open2 = new Set();
            const relay = net.createServer((client) => {
              const server = net.connect(target, "127.0.0.1");
              const end = () => { client.destroy(); server.destroy(); open2.delete(client); open2.delete(server); };
              open2.add(client); open2.add(server);
              client.pipe(server); server.pipe(client);
              for (const s of [client, server]) { s.on("error", end); s.on("close", end); }
            });
            await new Promise((resolve) => relay.listen(0, "127.0.0.1", resolve));
            const a = open({{cluster.GatewayPorts[0]}}, "a");
            const b = io(`http://127.0.0.1:${relay.address().port}`, { forceNew: true, transports: ["websocket"], reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 300, auth: { name: "b" } });
            await Promise.all([a, b].map(ready));
            for (const s of [a, b]) assert((await request(s, "join", "{{room}}")).ok, "joined");
            const firstId = b.id;
            const heard = [];
            b.on("chat", (m) => heard.push(Number(m.text)));
            let sent = 0, stop = false;
            const stream = (async () => { while (!stop) { const n = sent + 1; assert((await request(a, "chat", { room: "{{room}}", text: String(n) })).ok, "chat"); sent = n; } })();
            await until("b hearing a", () => heard.length > 50, 15000);

            const back = new Promise((resolve) => b.io.once("reconnect", resolve));
            target = {{cluster.GatewayPorts[2]}};
            const killed = performance.now();
            process.kill({{victim}}, "SIGKILL");
            for (const s of open2) s.destroy();
            await back;
            await until("b connected again", () => b.connected, 30000);
            const recoveredMs = Math.round(performance.now() - killed);
            eq([b.recovered, b.id === firstId], [true, true], "recovered, with its id");

            const at = sent;
            await until("a chatting on", () => sent > at + 50, 30000);
            stop = true;
            await stream;
            await until("b hearing every message", () => heard.length >= sent, 15000);
            const wrong = heard.filter((n, i) => n !== i + 1).slice(0, 5);
            eq([heard.length, wrong], [sent, []], "every message once, in order");
            relay.close();
            console.log(JSON.stringify({ recoveredMs, sent }));
            """;

        var result = await RunAsync(cluster, script);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"gateway killed with SIGKILL: its client recovered through another gateway {result.GetProperty("recoveredMs")} ms after the kill, with all {result.GetProperty("sent")} messages once, in order"));
    }

    /// <summary>
    /// A grain-only silo started with <c>--silos 1</c> joins the gateways' cluster, hosts OrleansRooms grains but never a
    /// gateway's inbox, and when it is killed with SIGKILL the rooms of clients a and b (gateways 1 and 2) keep their
    /// members and keep delivering. Reports which grains it held and the time until the rooms deliver again.
    /// </summary>
    [Fact]
    public async Task A_grain_only_silo_takes_part_and_the_cluster_keeps_working_when_it_is_killed()
    {
        await using var cluster = await LocalCluster.StartAsync(gateways: 2, nginx: false, silos: 1);
        var victim = cluster.Pids["silo-1"];
        var prefix = $"s{Guid.NewGuid():N}"[..12];
        var script = Helpers + $$"""
            const BOUND_MS = {{BoundMs}};
            const silo = async () => (await fetch("http://127.0.0.1:{{cluster.SiloPorts[0]}}/silo")).json();
            const rooms = Array.from({ length: {{Rooms}} }, (_, i) => `{{prefix}}-${i}`);
            const [a, b] = [open({{cluster.GatewayPorts[0]}}, "a"), open({{cluster.GatewayPorts[1]}}, "b")];
            await Promise.all([a, b].map(ready));
            for (const room of rooms) {
              for (const s of [a, b]) assert((await request(s, "join", room)).ok, `joined ${room}`);
            }

            const before = await silo();
            eq(before.status, "Active", "the silo's status");
            eq(before.activeSilos.length, 3, `active silos seen by the silo (both gateways and itself): ${before.activeSilos}`);
            const hosted = Object.keys(before.activations);
            assert(!hosted.some((type) => type.includes("GatewayGrain")), `a grain-only silo hosts no gateway inbox: ${hosted}`);

            const killed = performance.now();
            process.kill({{victim}}, "SIGKILL");

            // Every room keeps a and b (grains the silo held are rebuilt elsewhere), and a's message reaches b in each.
            const intactMs = await converge("a and b in every room after the silo died", async () => { const n = await countsOf(a, rooms); return [n.every((x) => x === 2), n]; }, killed);
            const heard = record(b, "chat");
            for (const room of rooms) assert((await request(a, "chat", { room, text: "still here" })).ok, `chat in ${room}`);
            await until("b hearing a in every room", () => heard.length >= rooms.length, 10000);
            eq(heard.map((m) => m.room).sort(), [...rooms].sort(), "b heard a once in each room");
            const deliverMs = Math.round(performance.now() - killed);
            console.log(JSON.stringify({ intactMs, deliverMs, activations: before.activations }));
            """;

        var result = await RunAsync(cluster, script);
        Assert.False(LocalCluster.IsAlive(victim), "the silo still runs");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"grain-only silo killed with SIGKILL: rooms intact after {result.GetProperty("intactMs").GetInt32()} ms, delivering in every room after {result.GetProperty("deliverMs").GetInt32()} ms; it held {result.GetProperty("activations")}"));
    }

    /// <summary>Runs the scenario against the cluster (its gateway 1) and returns the JSON of its last line.</summary>
    private static async Task<JsonElement> RunAsync(LocalCluster cluster, string script)
    {
        string stdout;
        try
        {
            stdout = await NodeScenario.RunAsync(cluster.Gateway(1), script, TimeSpan.FromSeconds(90));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new Xunit.Sdk.XunitException($"{ex.Message}\n{cluster.Logs()}");
        }

        return JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement.Clone();
    }
}
