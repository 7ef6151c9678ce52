using OrleansRooms.Silo.Tests.Infrastructure;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Admin;

/// <summary>
/// The Admin UI's server side on two gateways of one cluster, through the official client: an admin client connected
/// to gateway A sees both gateways as servers and every socket, and disconnects a socket of gateway B.
/// </summary>
public sealed class ClusterAdminUITests : IAsyncLifetime, IAsyncDisposable
{
    private readonly OrleansGatewayCluster _cluster = new(gateways: 2)
    {
        Settings = new Dictionary<string, string>
        {
            ["SocketIO:AdminUI:Auth:Type"] = "None",
            ["SocketIO:AdminUI:Mode"] = "Development",
        },
    };

    public Task InitializeAsync() => _cluster.StartAsync();

    public Task DisposeAsync() => _cluster.DisposeAsync().AsTask();

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    [Fact]
    public async Task An_admin_client_on_one_gateway_sees_every_gateway_and_disconnects_a_socket_of_another()
    {
        var (a, b) = (_cluster.Gateways[0], _cluster.Gateways[1]);
        await NodeCompat.RunScriptAsync("""
            import { io } from "socket.io-client";
            const [A, B] = [process.env.GATEWAY_A, process.env.GATEWAY_B];
            const fail = (what) => { console.error(what); process.exit(1); };
            const timer = setTimeout(() => fail("timed out"), 50000);
            const opts = { reconnection: false, forceNew: true, transports: ["websocket"] };
            const connected = (socket) => new Promise((resolve, reject) => {
              socket.once("connect", () => resolve(socket));
              socket.once("connect_error", (err) => reject(err));
            });

            const admin = io(A + "/admin", opts);
            const servers = new Map();
            let allStats;
            const bothSeen = new Promise((resolve) => { allStats = resolve; });
            admin.on("server_stats", (stats) => {
              servers.set(stats.serverId, stats);
              const withSockets = [...servers.values()].filter((s) => s.namespaces.some((n) => n.name === "/" && n.socketsCount === 1));
              if (withSockets.length === 2) allStats(withSockets);
            });
            const connectedIds = new Set();
            let onConnected = () => {};
            admin.on("socket_connected", (socket) => { connectedIds.add(socket.id); onConnected(); });
            await connected(admin);

            const [onA, onB] = await Promise.all([connected(io(A, opts)), connected(io(B, opts))]);
            const stats = await bothSeen;
            if (new Set(stats.map((s) => s.serverId)).size !== 2) fail(`two servers expected: ${JSON.stringify(stats)}`);
            if (!stats.every((s) => s.clientsCount >= 1 && s.hostname && s.pid > 0)) fail(`stats: ${JSON.stringify(stats)}`);
            // socket_connected of each gateway's socket reaches the admin client on A.
            await new Promise((resolve) => { onConnected = () => connectedIds.has(onA.id) && connectedIds.has(onB.id) && resolve(); onConnected(); });

            // A second admin client is sent every socket of the cluster as it connects.
            const all = await new Promise((resolve) => io(A + "/admin", opts).once("all_sockets", resolve));
            for (const id of [onA.id, onB.id]) if (!all.some((s) => s.id === id && s.nsp === "/")) fail(`${id} missing from all_sockets: ${JSON.stringify(all)}`);

            const gone = new Promise((resolve) => onB.once("disconnect", resolve));
            const answer = await admin.timeout(20000).emitWithAck("_disconnect", "/", false, onB.id);
            if (!answer.ok) fail(`_disconnect: ${JSON.stringify(answer)}`);
            const reason = await gone;
            if (reason !== "io server disconnect") fail(`B's socket: ${reason}`);
            if (!onA.connected) fail("A's socket was disconnected too");
            clearTimeout(timer);
            process.exit(0);
            """, new Dictionary<string, string>
        {
            ["GATEWAY_A"] = a.Url.ToString().TrimEnd('/'),
            ["GATEWAY_B"] = b.Url.ToString().TrimEnd('/'),
        }, TimeSpan.FromSeconds(60));

        // B's own view: the socket is gone from its main namespace.
        await Eventually.HoldsAsync(() => b.Io.Sockets.Sockets.Count == 0, "no socket left on gateway B", TimeSpan.FromSeconds(30));
    }
}
