using Microsoft.Extensions.DependencyInjection;
using OrleansRooms.Admin;
using OrleansRooms.Conformance.Infrastructure;

namespace OrleansRooms.Conformance;

/// <summary>
/// The server side of the Socket.IO Admin UI (<c>AddSocketIOAdminUI</c>) as the UI of <c>@socket.io/admin-ui</c> 0.5.1
/// speaks to it, through the official client: authentication, <c>config</c>, <c>server_stats</c>, the development-mode
/// events and the operations. Every test's gateway has an application socket handler: <c>rooms</c> answers the socket's
/// rooms, <c>join</c> joins one.
/// </summary>
public sealed class AdminUITests
{
    private const string Password = "s3cret!";
    private static readonly string PasswordHash = BCrypt.Net.BCrypt.HashPassword(Password, workFactor: 4);

    // watch(socket, names): records every event of those names as [name, ...args]; until(predicate) resolves with the
    // first recorded one that matches, as soon as it arrives.
    private const string Admin = """
        function watch(socket, names) {
          const events = [];
          const waiters = new Set();
          for (const name of names) {
            socket.on(name, (...args) => {
              events.push([name, ...args]);
              for (const waiter of [...waiters]) waiter();
            });
          }
          function until(predicate, what, ms = 15000) {
            return new Promise((resolve, reject) => {
              const check = () => {
                const found = events.find(predicate);
                if (!found) return;
                waiters.delete(check);
                clearTimeout(timer);
                resolve(found);
              };
              const timer = setTimeout(() => {
                waiters.delete(check);
                reject(new Error(`no ${what} within ${ms} ms: ${JSON.stringify(events).slice(0, 2000)}`));
              }, ms);
              waiters.add(check);
              check();
            });
          }
          return { events, until };
        }
        function admin(auth = { username: "admin", password: "s3cret!" }) {
          // A connection of its own, as the UI opens (forceNew), not multiplexed with the test's clients.
          const socket = connect("/admin", { auth, forceNew: true });
          const config = once(socket, "config");
          const stats = watch(socket, ["server_stats"]);
          return { socket, config, stats };
        }
        """;

    [Fact]
    public async Task Basic_auth_lets_the_password_in_and_hands_a_session_id_that_reconnects_without_it()
    {
        await RunAsync(Admin + """
            const first = connect("/admin", { auth: { username: "admin", password: "s3cret!" }, forceNew: true });
            const [sessionId] = await once(first, "session");
            assert(typeof sessionId === "string" && sessionId.length > 20, "a session id");
            await connected(first);
            const again = connect("/admin", { auth: { sessionId }, forceNew: true });
            const config = once(again, "config");
            await connected(again);
            await config;
            """);
    }

    [Fact]
    public async Task Wrong_credentials_and_forged_session_ids_are_refused_with_invalid_credentials()
    {
        await RunAsync(Admin + """
            for (const auth of [{ username: "admin", password: "wrong" }, { username: "root", password: "s3cret!" }, {}, { sessionId: "forged" }]) {
              const socket = connect("/admin", { auth, forceNew: true });
              const [err] = await once(socket, "connect_error");
              eq(err.message, "invalid credentials", `connect_error of ${JSON.stringify(auth)}`);
            }
            """);
    }

    [Fact]
    public async Task Config_lists_the_operations_and_every_event_in_development_mode()
    {
        await RunAsync(Admin + """
            const { config } = admin();
            eq((await config)[0], { supportedFeatures: ["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS", "ALL_EVENTS"] }, "config");
            """);
    }

    [Fact]
    public async Task Production_mode_sends_statistics_only()
    {
        await RunAsync(Admin + """
            const { socket, config, stats } = admin();
            const sockets = record(socket, "all_sockets");
            eq((await config)[0], { supportedFeatures: ["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS"] }, "config");
            const connectedEvents = record(socket, "socket_connected");
            await connected(connect());
            await stats.until(([, s]) => s.namespaces.some((n) => n.name === "/" && n.socketsCount === 1), "stats with the client");
            eq([sockets, connectedEvents], [[], []], "socket events");
            """, AdminUIMode.Production);
    }

    [Fact]
    public async Task Server_stats_arrive_every_interval_with_this_gateways_figures()
    {
        await RunAsync(Admin + """
            const client = await connected(connect());
            await ack(client, "rooms");
            const { stats } = admin();
            const [, s] = await stats.until(([, s]) => s.clientsCount === 2 && s.aggregatedEvents.some((e) => e.type === "bytesIn"), "stats of two clients");
            eq(s.serverId, "gateway-under-test", "serverId");
            assert(typeof s.hostname === "string" && s.hostname.length > 0, "hostname");
            assert(Number.isInteger(s.pid) && s.pid > 0, "pid");
            assert(s.uptime > 0, "uptime");
            assert(s.pollingClientsCount >= 0 && s.pollingClientsCount <= 2, "pollingClientsCount");
            eq(s.namespaces.find((n) => n.name === "/"), { name: "/", socketsCount: 1 }, "the main namespace");
            eq(s.namespaces.find((n) => n.name === "/admin"), { name: "/admin", socketsCount: 1 }, "the admin namespace");
            const all = stats.events.map(([, x]) => x);
            const types = new Set(all.flatMap((x) => x.aggregatedEvents.map((e) => e.type)));
            for (const type of ["rawConnection", "packetsIn", "bytesIn", "packetsOut", "bytesOut"]) assert(types.has(type), `aggregated ${type}`);
            assert(all.flatMap((x) => x.aggregatedEvents).every((e) => Number.isInteger(e.timestamp) && e.timestamp % 1000 === 0 && e.count > 0), "timestamps and counts");
            assert(s.memoryUsage.rss > 0 && s.memoryUsage.heapUsed > 0, "memoryUsage");
            await stats.until(([, x]) => x !== s && x.serverId === s.serverId, "the next server_stats");
            """);
    }

    [Fact]
    public async Task Development_mode_sends_every_socket_and_its_connection_rooms_and_disconnection()
    {
        await RunAsync(Admin + """
            const before = await connected(connect("/", { query: { who: "before" } }));
            await ack(before, "join", "lobby");
            const { socket } = admin();
            const { events, until } = watch(socket, ["socket_connected", "room_joined", "room_left", "socket_disconnected"]);
            const [all] = await once(socket, "all_sockets");
            const listed = all.find((s) => s.id === before.id);
            assert(listed, "the socket connected before is in all_sockets");
            eq([listed.nsp, listed.rooms.sort(), listed.handshake.query.who, listed.clientId, listed.data], ["/", [before.id, "lobby"].sort(), "before", before.io.engine.id.slice(0, 12), {}], "its description");
            assert(["polling", "websocket"].includes(listed.transport), "its transport");
            assert(listed.handshake.headers.host && listed.handshake.address && listed.handshake.url.startsWith("/socket.io/"), "its handshake");

            const after = await connected(connect("/", { transports: ["websocket"] }));
            const [, described, timestamp] = await until((e) => e[0] === "socket_connected" && e[1].id === after.id, "socket_connected");
            eq([described.nsp, described.transport, described.rooms], ["/", "websocket", [after.id]], "socket_connected");
            assert(!isNaN(Date.parse(timestamp)), "socket_connected's timestamp");
            await ack(after, "join", "news");
            const roomJoined = await until((e) => e[0] === "room_joined" && e[3] === after.id && e[2] === "news", "room_joined");
            eq(roomJoined.slice(0, 4), ["room_joined", "/", "news", after.id], "room_joined");
            const afterId = after.id;
            after.disconnect();
            const gone = await until((e) => e[0] === "socket_disconnected" && e[2] === afterId, "socket_disconnected");
            eq(gone.slice(0, 4), ["socket_disconnected", "/", afterId, "client namespace disconnect"], "socket_disconnected");
            await until((e) => e[0] === "room_left" && e[3] === afterId && e[2] === "news", "room_left");
            """);
    }

    [Fact]
    public async Task Upgrade_to_websocket_is_sent_as_socket_updated()
    {
        await RunAsync(Admin + """
            const { socket } = admin();
            await once(socket, "all_sockets");
            const { until } = watch(socket, ["socket_updated"]);
            const client = connect("/", { transports: ["polling", "websocket"] });
            await connected(client);
            const [, update] = await until(([, u]) => u.id === client.id, "socket_updated");
            eq(update, { id: client.id, nsp: "/", transport: "websocket" }, "socket_updated");
            """);
    }

    [Fact]
    public async Task Operations_emit_join_leave_and_disconnect_reach_the_targeted_sockets()
    {
        await RunAsync(Admin + """
            const [a, b] = await Promise.all([connected(connect()), connected(connect())]);
            const { socket } = admin();
            await connected(socket);
            const news = { a: record(a, "news"), b: record(b, "news") };

            eq(await ack(socket, "emit", "/", a.id, "news", { n: 1 }, "x"), [{ ok: true }], "emit to a");
            eq(await ack(socket, "emit", "/", null, "news", 2), [{ ok: true }], "emit to all");
            await Promise.all([ack(a, "rooms"), ack(b, "rooms")]);
            eq(news, { a: [[{ n: 1 }, "x"], 2], b: [2] }, "received");

            eq(await ack(socket, "join", "/", "vip", b.id), [{ ok: true }], "join b");
            eq(await ack(b, "rooms"), [["vip"]], "b's rooms");
            eq(await ack(socket, "join", "/", "all", null), [{ ok: true }], "join everyone");
            eq(await ack(a, "rooms"), [["all"]], "a's rooms");
            eq(await ack(socket, "leave", "/", "all", "vip"), [{ ok: true }], "vip leaves all");
            eq([await ack(a, "rooms"), await ack(b, "rooms")], [[["all"]], [["vip"]]], "rooms after leave");

            const bGone = once(b, "disconnect");
            eq(await ack(socket, "_disconnect", "/", false, b.id), [{ ok: true }], "disconnect b");
            eq((await bGone)[0], "io server disconnect", "b's disconnect");
            assert(a.connected, "a stays");
            eq(await ack(socket, "_disconnect", "/nowhere", false), [{ ok: false, error: "no namespace '/nowhere' on this server" }], "unknown namespace");
            """);
    }

    [Fact]
    public async Task Read_only_refuses_every_operation_and_says_so_in_config()
    {
        await RunAsync(Admin + """
            const a = await connected(connect());
            const { socket, config } = admin();
            eq((await config)[0], { supportedFeatures: ["AGGREGATED_EVENTS", "ALL_EVENTS"] }, "config");
            const refused = [{ ok: false, error: "read-only" }];
            eq(await ack(socket, "_disconnect", "/", true, a.id), refused, "_disconnect");
            eq(await ack(socket, "join", "/", "vip", a.id), refused, "join");
            eq(await ack(socket, "leave", "/", a.id, a.id), refused, "leave");
            const news = record(a, "news");
            eq(await ack(socket, "emit", "/", null, "news", 1), refused, "emit");
            eq(await ack(a, "rooms"), [[]], "a's rooms");
            eq([a.connected, news], [true, []], "a untouched");
            """, readOnly: true);
    }

    private static async Task RunAsync(string scenario, AdminUIMode mode = AdminUIMode.Development, bool readOnly = false)
    {
        await using var gateway = await TestGateway.StartAsync(
            io => io.OnConnection(socket =>
            {
                socket.On("rooms", e => e.Ack((object)socket.Rooms.Where(r => r != socket.Id).Order(StringComparer.Ordinal).ToArray()));
                socket.On("join", async e =>
                {
                    await socket.JoinAsync(e.Get<string>(0)!);
                    e.Ack();
                });
            }),
            services: services => services.AddSocketIOAdminUI(options =>
            {
                options.Auth = new AdminUIAuthOptions { Type = AdminUIAuthType.Basic, Username = "admin", Password = PasswordHash };
                options.Mode = mode;
                options.ReadOnly = readOnly;
                options.ServerId = "gateway-under-test";
            }));
        await NodeScenario.RunAsync(gateway.Url, scenario, TimeSpan.FromSeconds(60));
    }
}
