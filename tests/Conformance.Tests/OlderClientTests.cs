using System.Net;
using OrleansRooms.Conformance.Infrastructure;

namespace OrleansRooms.Conformance;

/// <summary>
/// <c>socket.io-client</c> 2.x (Engine.IO v3, Socket.IO protocol v4), still shipped in many mobile apps, against a
/// gateway with <c>AllowEIO3</c> on: connection over each transport and the upgrade, namespaces, rooms, acknowledgements,
/// binary and disconnection; and the refusal when it is off.
/// </summary>
public sealed class OlderClientTests
{
    [Fact]
    public async Task A_v2_client_connects_over_polling()
    {
        await using var gateway = await StartAsync();
        await V2ClientScenario.RunAsync(gateway.Url, """
            const socket = connect("/", { transports: ["polling"] });
            const welcome = once(socket, "welcome");
            await connected(socket);
            eq(transport(socket), "polling", "transport");
            eq((await welcome)[0], "hello, v2", "event from the server");
            eq(await ack(socket, "echo", "é ☃ 😀"), ["é ☃ 😀"], "an event and its acknowledgement, in characters beyond ASCII");
            """);
    }

    [Fact]
    public async Task A_v2_client_connects_over_websocket_only()
    {
        await using var gateway = await StartAsync();
        await V2ClientScenario.RunAsync(gateway.Url, """
            const socket = connect("/", { transports: ["websocket"] });
            const welcome = once(socket, "welcome");
            await connected(socket);
            eq(transport(socket), "websocket", "transport");
            eq((await welcome)[0], "hello, v2", "event from the server");
            eq(await ack(socket, "echo", "over websocket"), ["over websocket"], "acknowledgement");
            """);
    }

    [Fact]
    public async Task A_v2_client_upgrades_from_polling_to_websocket()
    {
        await using var gateway = await StartAsync();
        await V2ClientScenario.RunAsync(gateway.Url, """
            const socket = connect("/");
            eq(transport(socket), "polling", "first transport");
            const upgraded = once(socket.io.engine, "upgrade", 10000);
            await connected(socket);
            eq(await ack(socket, "echo", "during"), ["during"], "acknowledgement while the upgrade may be under way");
            await upgraded;
            eq(transport(socket), "websocket", "transport after the upgrade");
            eq(await ack(socket, "echo", "after"), ["after"], "acknowledgement over the websocket");
            """);
    }

    [Fact]
    public async Task A_v2_client_pings_and_the_server_answers_across_several_intervals()
    {
        // The client pings every pingInterval and gives up when no pong comes within pingTimeout; the server gives up
        // when no ping came for pingInterval + pingTimeout. Five pongs: both sides kept the session alive.
        await using var gateway = await StartAsync(options: o =>
        {
            o.PingInterval = TimeSpan.FromMilliseconds(200);
            o.PingTimeout = TimeSpan.FromSeconds(5);
        });
        await V2ClientScenario.RunAsync(gateway.Url, """
            for (const transports of [["polling"], ["websocket"]]) {
              const socket = await connected(connect("/", { transports }));
              for (let i = 0; i < 5; i++) await once(socket, "pong");
              eq(socket.connected, true, `${transports}: still connected`);
              eq(await ack(socket, "echo", "alive"), ["alive"], `${transports}: acknowledgement`);
              socket.close();
            }
            """);
    }

    [Fact]
    public async Task A_v2_client_connects_to_a_custom_namespace_with_its_query_as_auth()
    {
        await using var gateway = await StartAsync();
        await V2ClientScenario.RunAsync(gateway.Url, """
            for (const transports of [["polling"], ["websocket"]]) {
              const chat = connect("/chat", { transports, query: { token: "abc", room: "lobby" } });
              await connected(chat);
              eq(await ack(chat, "whoami"), ["/chat", { token: "abc", room: "lobby" }, false], `${transports}: namespace, auth, not recovered`);
              chat.close();
            }
            """);
    }

    [Fact]
    public async Task A_v2_client_refused_by_middleware_gets_the_error_as_a_plain_value_or_its_details()
    {
        await using var gateway = await StartAsync();
        await V2ClientScenario.RunAsync(gateway.Url, """
            const socket = connect("/private", { transports: ["websocket"] });
            const [error] = await once(socket, "error");
            eq(error, "Not authorized", "the ERROR packet's payload");
            eq(socket.connected, false, "not connected");

            const vip = connect("/vip", { transports: ["polling"] });
            eq((await once(vip, "error"))[0], { code: 4001 }, "a refusal with details sends the details");
            """);
    }

    [Fact]
    public async Task Rooms_reach_v2_clients_and_to_a_room_excludes_the_sender()
    {
        await using var gateway = await StartAsync();
        await V2ClientScenario.RunAsync(gateway.Url, """
            const [a, b, c] = await Promise.all([
              connected(connect("/", { transports: ["polling"] })),
              connected(connect("/", { transports: ["websocket"] })),
              connected(connect("/")),
            ]);
            const news = { a: record(a, "news"), b: record(b, "news"), c: record(c, "news") };
            async function broadcast(from, event, target) {
              const fences = [a, b, c].map((s) => once(s, "fence"));
              await ack(from, event, target);
              await Promise.all(fences);
            }
            eq(await ack(a, "join", ["r1"]), [["r1"]], "a's rooms");
            eq(await ack(b, "join", ["r1"]), [["r1"]], "b's rooms");
            await broadcast(c, "io-emit", { to: ["r1"], tag: "to r1" });
            await broadcast(a, "socket-emit", { to: ["r1"], tag: "from a" });
            eq(news, { a: ["to r1"], b: ["to r1", "from a"], c: [] }, "received");
            """);
    }

    [Fact]
    public async Task A_broadcast_reaches_v2_and_current_clients_alike()
    {
        await using var gateway = await StartAsync();
        var v2Client = Path.Combine(V2ClientScenario.Directory, "node_modules", "socket.io-client", "lib", "index.js");

        // One packet, encoded once, goes to every member: each session frames it for its own protocol and transport.
        await NodeScenario.RunAsync(gateway.Url, $$"""
            import io2 from {{System.Text.Json.JsonSerializer.Serialize(v2Client)}};
            const current = await connected(connect("/", { transports: ["websocket"] }));
            const olders = [];
            for (const transports of [["polling"], ["websocket"]]) {
              const older = io2(URL, { transports, reconnection: false, forceNew: true });
              await new Promise((resolve, reject) => { older.once("connect", resolve); older.once("connect_error", reject); });
              olders.push(older);
            }
            for (const socket of [current, ...olders]) eq(await ack(socket, "join", ["r1"]), [["r1"]], "rooms");
            const received = [current, ...olders].map((socket) => once(socket, "news"));
            await ack(current, "io-emit", { to: ["r1"], tag: "for all" });
            for (const [tag] of await Promise.all(received)) eq(tag, "for all", "the broadcast");

            const binary = [current, ...olders].map((socket) => once(socket, "blob"));
            await ack(olders[0], "io-emit-binary", ["r1"]);
            for (const [blob] of await Promise.all(binary)) eq(bytes(blob, "blob"), [9, 8, 7], "the binary broadcast");
            for (const older of olders) older.close();
            """);
    }

    [Fact]
    public async Task Acknowledgements_go_both_ways_with_a_v2_client()
    {
        await using var gateway = await StartAsync();
        await V2ClientScenario.RunAsync(gateway.Url, """
            for (const transports of [["polling"], ["websocket"]]) {
              const socket = await connected(connect("/", { transports }));
              eq(await ack(socket, "sum", 2, 3), [5], `${transports}: the server's acknowledgement`);
              socket.on("question", (question, callback) => callback(42, question));
              const verdictReceived = once(socket, "verdict");
              socket.emit("ask");
              const [verdict] = await verdictReceived;
              eq(verdict, "42 6 x 7?", `${transports}: the client's acknowledgement read by the server`);
              socket.close();
            }
            """);
    }

    [Fact]
    public async Task Binary_goes_both_ways_with_a_v2_client()
    {
        await using var gateway = await StartAsync();
        await V2ClientScenario.RunAsync(gateway.Url, """
            for (const transports of [["polling"], ["websocket"]]) {
              const socket = connect("/", { transports });
              const download = once(socket, "download");
              await connected(socket);
              const [raw, doc] = await download;
              eq(bytes(raw, "raw"), [0, 255, 1], `${transports}: top-level binary from the server`);
              eq(doc.blobs.map((b) => bytes(b, "blob")), [[7], [6, 5]], `${transports}: nested binary from the server`);

              const [res] = await ack(socket, "upload", Buffer.from([1, 2, 3]), { parts: [Buffer.from([4, 5]), Buffer.from([6])] });
              eq(bytes(res.reversed, "reversed"), [3, 2, 1], `${transports}: binary read by the server, in a binary acknowledgement`);
              eq(res.parts, ["4,5", "6"], `${transports}: nested binary read by the server`);
              socket.close();
            }
            """);
    }

    [Fact]
    public async Task A_v2_client_disconnects_and_is_disconnected()
    {
        await using var gateway = await StartAsync();

        // The server tells every socket in the "watchers" room why a socket left (the client that left cannot hear it).
        await V2ClientScenario.RunAsync(gateway.Url, """
            const watcher = await connected(connect("/"));
            await ack(watcher, "join", ["watchers"]);
            const gone = record(watcher, "gone");

            for (const transports of [["polling"], ["websocket"]]) {
              const kicked = await connected(connect("/", { transports }));
              const disconnected = once(kicked, "disconnect");
              const told = once(watcher, "gone");
              kicked.emit("kick-me");
              eq((await disconnected)[0], "io server disconnect", `${transports}: client-side reason of a server disconnect`);
              await told;

              const leaving = await connected(connect("/", { transports }));
              const toldAgain = once(watcher, "gone");
              leaving.close();
              await toldAgain;
            }

            eq(gone, ["server namespace disconnect", "client namespace disconnect", "server namespace disconnect", "client namespace disconnect"], "server-side reasons");
            """);
    }

    [Fact]
    public async Task With_connection_state_recovery_on_a_v2_client_connects_as_a_new_socket_and_broadcasts_carry_their_offset()
    {
        await using var gateway = await StartAsync(options: o => o.ConnectionStateRecovery = new OrleansRooms.Grains.Recovery.ConnectionStateRecoveryOptions());

        // A query shaped like a recovery request does not make a 2.x client recovered: it is a new socket each time.
        await V2ClientScenario.RunAsync(gateway.Url, """
            const chat = await connected(connect("/chat", { transports: ["websocket"], query: { pid: "x".repeat(40), offset: "1-0" } }));
            eq((await ack(chat, "whoami"))[2], false, "recovered");

            const socket = await connected(connect("/", { transports: ["websocket"] }));
            await ack(socket, "join", ["r1"]);
            const news = once(socket, "news");
            await ack(socket, "io-emit", { to: ["r1"], tag: "t" });
            const args = await news;
            eq(args.length, 2, "the tag, then the offset a v5 client would recover from");
            eq(args[0], "t", "the tag");
            """);
    }

    [Fact]
    public async Task A_v2_client_in_a_browser_sends_and_gets_binary_over_polling_in_the_XHR2_framing()
    {
        await using var gateway = await StartAsync();
        var bundle = Path.Combine(V2ClientScenario.Directory, "node_modules", "socket.io-client", "dist", "socket.io.js");
        using var chromium = Chromium.Create();
        // In a page of the gateway's origin, the 2.x browser bundle reads and posts binary payloads (XHR2).
        await NodeScenario.RunAsync(gateway.Url, $$"""
            import puppeteer from "puppeteer-core";
            const browser = await {{chromium.Launch()}};
            try {
              const page = await browser.newPage();
              // An empty page of the gateway's origin, answered by the browser itself; the rest goes to the gateway.
              await page.setRequestInterception(true);
              page.on("request", (request) => request.url() === URL + "/page"
                ? request.respond({ status: 200, contentType: "text/html", body: "<!doctype html><title>v2</title>" })
                : request.continue());
              await page.goto(URL + "/page", { waitUntil: "domcontentloaded" });
              await page.addScriptTag({ path: {{System.Text.Json.JsonSerializer.Serialize(bundle)}} });
              const result = await page.evaluate(async () => {
                const socket = io(location.origin, { transports: ["polling"], reconnection: false });
                const download = new Promise((resolve) => socket.once("download", (...args) => resolve(args)));
                await new Promise((resolve, reject) => {
                  socket.once("connect", resolve);
                  socket.once("connect_error", (err) => reject(new Error("connect_error: " + err.message)));
                });
                const [raw, doc] = await download;
                const res = await new Promise((resolve) => socket.emit("upload", new Uint8Array([1, 2, 3]).buffer,
                  { parts: [new Uint8Array([4, 5]).buffer, new Uint8Array([6]).buffer] }, resolve));
                const binary = socket.io.engine.transport.supportsBinary;
                socket.close();
                const list = (b) => [...new Uint8Array(b)];
                return { binary, raw: list(raw), blobs: doc.blobs.map(list), reversed: list(res.reversed), parts: res.parts };
              });
              eq(result.binary, true, "the browser reads binary payloads (XHR2)");
              eq(result.raw, [0, 255, 1], "top-level binary from the server");
              eq(result.blobs, [[7], [6, 5]], "nested binary from the server");
              eq(result.reversed, [3, 2, 1], "binary read by the server, in a binary acknowledgement");
              eq(result.parts, ["4,5", "6"], "nested binary read by the server");
            } finally {
              await browser.close();
            }
            """, TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Without_AllowEIO3_a_v2_client_is_refused_with_unsupported_protocol_version()
    {
        await using var gateway = await StartAsync(options: o => o.AllowEIO3 = false);
        using var http = new HttpClient { BaseAddress = gateway.Url };
        var response = await http.GetAsync(new Uri("/socket.io/?EIO=3&transport=polling&b64=1", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("""{"code":5,"message":"Unsupported protocol version"}""", await response.Content.ReadAsStringAsync());

        await V2ClientScenario.RunAsync(gateway.Url, """
            for (const transports of [["polling"], ["websocket"]]) {
              const socket = connect("/", { transports });
              const [error] = await once(socket, "connect_error");
              assert(error instanceof Error, `${transports}: connect_error`);
              eq(socket.connected, false, `${transports}: not connected`);
            }
            """);
    }

    [Fact]
    public async Task A_v2_client_asking_for_jsonp_is_refused_with_a_clear_error()
    {
        await using var gateway = await StartAsync();
        using var http = new HttpClient { BaseAddress = gateway.Url };
        var response = await http.GetAsync(new Uri("/socket.io/?EIO=3&transport=polling&j=0", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("""{"code":3,"message":"JSONP polling is not supported"}""", await response.Content.ReadAsStringAsync());
    }

    private static Task<TestGateway> StartAsync(Action<SocketIOOptions>? options = null) =>
        TestGateway.StartAsync(io =>
        {
            io.OnConnection(async socket =>
            {
                socket.On("echo", e => e.Ack(e.Get<string>(0)));
                socket.On("sum", e => e.Ack(e.Get<int>(0) + e.Get<int>(1)));
                socket.On("join", async e =>
                {
                    await socket.JoinAsync(e.Get<string[]>(0)!);
                    e.Ack((object)socket.Rooms.Where(r => r != socket.Id).Order(StringComparer.Ordinal).ToArray());
                });
                socket.On("io-emit", async e =>
                {
                    var target = e.Get<Target>(0)!;
                    await io.To(target.To).EmitAsync("news", target.Tag);
                    await io.EmitAsync("fence");
                    e.Ack();
                });
                socket.On("socket-emit", async e =>
                {
                    var target = e.Get<Target>(0)!;
                    await socket.To(target.To).EmitAsync("news", target.Tag);
                    await io.EmitAsync("fence");
                    e.Ack();
                });
                socket.On("io-emit-binary", async e =>
                {
                    await io.To(e.Get<string[]>(0)!).EmitAsync("blob", new byte[] { 9, 8, 7 });
                    e.Ack();
                });
                socket.On("ask", async _ =>
                {
                    var response = await socket.Timeout(TimeSpan.FromSeconds(5)).EmitWithAckAsync("question", "6 x 7?");
                    await socket.EmitAsync("verdict", $"{response.Get<int>(0)} {response.Get<string>(1)}");
                });
                socket.On("upload", e =>
                {
                    var raw = e.Get<byte[]>(0)!;
                    var upload = e.Get<Upload>(1)!;
                    e.Ack(new { reversed = raw.Reverse().ToArray(), parts = upload.Parts.Select(p => string.Join(",", p)).ToArray() });
                });
                socket.On("kick-me", async _ => await socket.DisconnectAsync());
                socket.OnDisconnect(async reason => await io.To("watchers").EmitAsync("gone", reason));

                await socket.EmitAsync("welcome", "hello, v2");
                await socket.EmitAsync("download", new byte[] { 0, 255, 1 }, new { blobs = new[] { new byte[] { 7 }, new byte[] { 6, 5 } } });
            });
            io.Of("/chat").OnConnection(socket => socket.On("whoami", e => e.Ack(socket.Namespace.Name, socket.Handshake.Auth, socket.Recovered)));
            io.Of("/private").Use((_, _) => throw new ConnectionRejectedException("Not authorized"));
            io.Of("/vip").Use((_, _) => throw new ConnectionRejectedException("Not a member", new { code = 4001 }));
        }, o =>
        {
            o.AllowEIO3 = true;
            options?.Invoke(o);
        });

    private sealed record Target(string[] To, string Tag);

    private sealed record Upload(byte[][] Parts);
}
