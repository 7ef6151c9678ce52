using System.Text.Json;
using OrleansRooms.Conformance.Infrastructure;

namespace OrleansRooms.Deploy;

/// <summary>Three gateways and nginx, started once by <c>deploy/run-cluster.sh</c> for the tests of this class.</summary>
public sealed class NginxClusterFixture : IAsyncLifetime
{
    public LocalCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Cluster = await LocalCluster.StartAsync(gateways: 3, nginx: true, new Dictionary<string, string>
        {
            // Pings every second, so a test sees several heartbeats pass through nginx within seconds.
            ["SocketIO__PingInterval"] = "00:00:01",
            ["SocketIO__PingTimeout"] = "00:00:05",
        });

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}

/// <summary>
/// Many official clients through nginx (deploy/nginx/nginx.conf) to three gateways sharing rooms through Orleans,
/// running the chat demo of src/Gateway/Host. Stickiness: a session's requests carry its sid, whose prefix names the
/// gateway that issued it.
/// </summary>
public sealed class ClusterBehindNginxTests(NginxClusterFixture fixture) : IClassFixture<NginxClusterFixture>
{
    private const int Clients = 30;

    [Fact]
    public Task Long_polling_clients_stay_on_their_gateway_and_share_a_room() => RunAsync("""["polling"]""", "polling");

    [Fact]
    public Task WebSocket_clients_share_a_room_across_gateways() => RunAsync("""["websocket"]""", "websocket");

    [Fact]
    public Task Clients_that_upgrade_from_polling_to_websocket_reach_their_gateway() => RunAsync("""["polling", "websocket"]""", "websocket");

    /// <summary>
    /// Connects <see cref="Clients"/> clients through nginx with <paramref name="transports"/>; each one joins "lobby",
    /// one says something, and every other one must hear it (on every gateway: this part needs the Orleans cluster); then
    /// every client must see three pings and no disconnect or error, and nginx must have answered no 4xx/5xx.
    /// </summary>
    private async Task RunAsync(string transports, string finalTransport)
    {
        var cluster = fixture.Cluster;
        var room = $"lobby-{Guid.NewGuid():N}"[..20];
        var script = $$"""
            const N = {{Clients}};
            const errors = [];
            const clients = [];
            for (let i = 0; i < N; i++) {
              // forceNew: one Engine.IO connection per client, as N browsers would have.
              const s = io(URL, { forceNew: true, reconnection: false, transports: {{transports}}, auth: { name: "c" + i } });
              // The demo's connection handler ends by sending the room counts: the client is set up once they came.
              s.once("rooms", () => { s.ready = true; });
              s.on("connect_error", (e) => errors.push(`c${i} connect_error: ${e.message}`));
              s.on("disconnect", (r) => errors.push(`c${i} disconnected: ${r}`));
              clients.push(s);
            }
            const until = async (what, condition, ms) => {
              const deadline = Date.now() + ms;
              while (!condition()) {
                if (errors.length) throw new Error(errors.join("\n"));
                if (Date.now() > deadline) throw new Error(`${what} not within ${ms} ms`);
                await new Promise((r) => setTimeout(r, 20));
              }
            };
            await until("every client connected", () => clients.every((s) => s.connected && s.ready), 15000);
            const pings = clients.map(() => 0);
            clients.forEach((s, i) => s.io.engine.on("ping", () => pings[i]++));

            const joins = await Promise.all(clients.map((s) => ack(s, "join", "{{room}}")));
            joins.forEach(([a], i) => assert(a.ok, `c${i} joined: ${JSON.stringify(a)}`));

            // Depends on the cluster: clients on other gateways hear it only through the room grain's gateways.
            const heard = clients.map((s) => record(s, "chat"));
            const [sent] = await ack(clients[0], "chat", { room: "{{room}}", text: "hello" });
            assert(sent.ok, `chat acknowledged: ${JSON.stringify(sent)}`);
            await until("every other client hearing the chat", () => heard.slice(1).every((h) => h.length >= 1), 5000);
            eq(heard[0].length, 0, "the sender does not hear itself");
            heard.slice(1).forEach((h, i) => eq(h.map((m) => m.text), ["hello"], `c${i + 1} heard`));

            // Staying connected: polling cycles and upgrades keep reaching the right gateway.
            await until("three pings on every client", () => pings.every((p) => p >= 3), 10000);
            await until("every client on {{finalTransport}}", () => clients.every((s) => s.io.engine.transport.name === "{{finalTransport}}"), 5000);
            assert(errors.length === 0, errors.join("\n"));

            const byGateway = {};
            for (const s of clients) {
              const gateway = s.io.engine.id.split(".")[0];
              byGateway[gateway] = (byGateway[gateway] ?? 0) + 1;
            }
            for (const s of clients) { s.off("disconnect"); s.disconnect(); }
            console.log(JSON.stringify(byGateway));
            """;

        string output;
        try
        {
            output = await NodeScenario.RunAsync(cluster.Nginx, script, TimeSpan.FromSeconds(45));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new Xunit.Sdk.XunitException($"{ex.Message}\n{cluster.Logs()}");
        }

        // Sessions were spread over the gateways (least_conn), not all pinned to one as ip_hash would from one IP.
        var byGateway = JsonSerializer.Deserialize<Dictionary<string, int>>(output.Trim().Split('\n')[^1])!;
        Assert.True(byGateway.Count >= 2, $"all sessions on one gateway: {output}");
        Assert.All(byGateway.Keys, g => Assert.Matches("^g[123]$", g));
        Assert.Equal(Clients, byGateway.Values.Sum());
        var errors = cluster.NginxErrors();
        Assert.True(errors.Count == 0, $"nginx answered errors:\n{string.Join('\n', errors.Take(10))}");
    }
}
