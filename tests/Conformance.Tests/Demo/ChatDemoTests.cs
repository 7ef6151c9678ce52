using OrleansRooms.Conformance.Infrastructure;
using Xunit.Abstractions;

namespace OrleansRooms.Conformance.Demo;

/// <summary>
/// The chat demo (src/Gateway/Host) with the official client: what one busy client costs everyone else; and its page in
/// headless Debian chromium (driven by puppeteer-core, tests/conformance/demo-page.mjs): errors shown in the page,
/// rooms in natural order, the gateway named in a cluster, nothing missing.
/// </summary>
public sealed class ChatDemoTests(ITestOutputHelper output)
{
    /// <summary>
    /// One client tries to join 1,000 rooms while 5 others only watch. The demo used to send every socket the whole
    /// room list after each join (1,000 joins by one client sent 113 MiB to 20 passive clients); now a client may be in
    /// <c>Chat:MaxRoomsPerClient</c> rooms, a join past that is refused with an error, and the watchers get only the
    /// rooms that changed, coalesced. Counted: the bytes of every message a watcher receives. With the shortest interval
    /// the list is sent while joins are still being written to the grains, and the counts must be right all the same.
    /// </summary>
    [Theory]
    [InlineData("00:00:00.250")]
    [InlineData("00:00:00.010")]
    public async Task One_client_joining_many_rooms_costs_the_others_a_bounded_number_of_bytes(string roomListInterval)
    {
        await using var demo = await DemoHost.StartAsync(new Dictionary<string, string>
        {
            ["Chat:MaxRoomsPerClient"] = "20",
            ["Chat:RoomListInterval"] = roomListInterval,
        });

        try
        {
            var printed = await NodeScenario.RunAsync(demo.Url, """
                const open = (name) => connect("/", { forceNew: true, auth: { name } });
                const watchers = await Promise.all([1, 2, 3, 4, 5].map((i) => connected(open("watcher" + i))));
                const received = watchers.map(() => 0);
                const views = watchers.map(() => new Map());
                watchers.forEach((s, i) => {
                  s.io.engine.on("packet", (p) => { if (p.type === "message") received[i] += typeof p.data === "string" ? Buffer.byteLength(p.data) : p.data.byteLength; });
                  s.on("rooms:changed", (changes) => {
                    for (const [room, count] of Object.entries(changes)) count > 0 ? views[i].set(room, count) : views[i].delete(room);
                  });
                });
                const until = async (what, condition, ms = 10000) => {
                  const deadline = Date.now() + ms;
                  while (!condition()) {
                    if (Date.now() > deadline) throw new Error(`${what} not within ${ms} ms`);
                    await new Promise((r) => setTimeout(r, 20));
                  }
                };

                const busy = await connected(open("busy"));
                // A socket's joins go through its queue one after the other: the last of 1,000 waits for the 999 before it.
                const slowAck = (socket, event, ...args) => new Promise((resolve, reject) => {
                  const timer = setTimeout(() => reject(new Error(`no acknowledgement of '${event}' within 30000 ms`)), 30000);
                  socket.emit(event, ...args, (...response) => { clearTimeout(timer); resolve(response); });
                });
                const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => slowAck(busy, "join", "room-" + i)));
                const accepted = answers.filter(([a]) => a.ok).map(([a]) => a.room);
                eq(accepted.length, 20, "joins accepted");
                eq(answers.filter(([a]) => !a.ok).map(([a]) => a.error)[0], "at most 20 rooms per client: leave one first", "the error of a join past the cap");
                eq((await ack(busy, "join", accepted[0]))[0].ok, true, "joining a room it is in again is not refused");
                const [left] = await ack(busy, "leave", accepted[0]);
                eq(left.ok, true, "leave");
                eq((await ack(busy, "join", "one-more"))[0].ok, true, "a join after a leave");

                // Every watcher ends up with the same 20 rooms of one member, room-0 gone.
                await until("the watchers' room lists", () => views.every((v) => v.size === 20 && !v.has(accepted[0]) && v.get("one-more") === 1));
                const most = Math.max(...received);
                console.log(JSON.stringify({ received }));
                assert(most < 8 * 1024, `a watcher received ${most} bytes for 1,000 join attempts`);

                // The busy client leaves: its rooms disappear from every list.
                busy.disconnect();
                await until("the rooms gone", () => views.every((v) => v.size === 0));
                """, TimeSpan.FromSeconds(60));
            output.WriteLine(printed);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new Xunit.Sdk.XunitException($"{ex.Message}\n--- demo log\n{demo.Log}");
        }
    }

    /// <summary>
    /// Two demo gateways of one cluster: two people in a room, one on each gateway, both see it has two members, and
    /// a socket's private room (named by its id) cannot be joined from the other gateway either.
    /// </summary>
    [Fact]
    public async Task Room_counts_and_private_rooms_hold_across_gateways()
    {
        await using var redis = await OrleansRooms.TestCluster.RedisServer.StartAsync();
        var cluster = DemoHost.ClusterSettings(redis, "demo-" + Guid.NewGuid().ToString("N")[..8]);
        await using var first = await DemoHost.StartAsync(cluster);
        await using var second = await DemoHost.StartAsync(cluster);

        try
        {
            var printed = await NodeScenario.RunAsync(first.Url, $$"""
                const other = "{{second.Url.ToString().TrimEnd('/')}}";
                const alice = await connected(connect("/", { forceNew: true, auth: { name: "alice" } }));
                const bob = await connected(io(other + "/", { reconnection: false, forceNew: true, auth: { name: "bob" } }));
                const seen = [];
                alice.on("rooms:changed", (changes) => { if ("lobby" in changes) seen.push(changes.lobby); });

                eq((await ack(alice, "join", "lobby"))[0].members, 1, "alice alone in the lobby");
                const [joined] = await ack(bob, "join", "lobby");
                eq(joined.members, 2, "bob, on the other gateway, counts alice too");
                const deadline = Date.now() + 10000;
                while (seen.at(-1) !== 2) {
                  if (Date.now() > deadline) throw new Error(`alice saw the lobby's counts ${JSON.stringify(seen)}`);
                  await new Promise((r) => setTimeout(r, 20));
                }

                const [refused] = await ack(bob, "join", alice.id);
                eq(refused.ok, false, "alice's private room, from the other gateway");
                bob.disconnect();
                """, TimeSpan.FromSeconds(60));
            output.WriteLine(printed);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new Xunit.Sdk.XunitException($"{ex.Message}\n--- first gateway\n{first.Log}\n--- second gateway\n{second.Log}");
        }
    }

    /// <summary>
    /// A name the server refuses, then a server out of reach: each shows in the page as a dismissable alert, never in a
    /// dialog; the reach error goes once the page is connected again.
    /// </summary>
    [Fact]
    public async Task Connection_errors_show_in_the_page_and_open_no_dialog()
    {
        await using var demo = await DemoHost.StartAsync(WithPage());
        await RunInChromiumAsync(demo.Url, """
            const { page, dialogs, showing } = await openPage(browser, URL + "/");
            const alerts = () => document.querySelectorAll("#errors [role=alert]").length;

            await logIn(page, "x".repeat(30));
            await showing(() => document.querySelector("#errors [role=alert]")?.textContent.includes("invalid name (1 to 24 characters)"), null, "the refused name");
            assert(await page.$eval("#login", (form) => !form.hidden), "the login form is shown again");
            await page.click("#errors [role=alert] button.dismiss");
            await showing((n) => document.querySelectorAll("#errors [role=alert]").length === n, 0, "the error dismissed");

            // The page's requests to the server fail (polling first: its handshake is a request): it says so and retries.
            let reachable = false;
            await page.setRequestInterception(true);
            page.on("request", (request) => (reachable || !request.url().includes("/socket.io/") ? request.continue() : request.abort("connectionrefused")));
            await logIn(page, "alice");
            await showing(() => document.querySelector("#errors [role=alert]")?.textContent.startsWith("Cannot reach the server"), null, "the server out of reach");
            await page.evaluate(() => new Promise((resolve) => state.socket.io.once("reconnect_error", resolve)));
            eq((await errors(page)).length, 1, "errors shown after two failed attempts");
            reachable = true;
            await showing(() => document.querySelectorAll("#errors [role=alert]").length === 0 && document.getElementById("status").textContent.startsWith("alice · connected"), null, "connected, the error gone");
            eq(dialogs, [], "dialogs opened");
            """, () => demo.Log);
    }

    /// <summary>A join past <c>Chat:MaxRoomsPerClient</c> and a message too long: errors in the page, never a dialog.</summary>
    [Fact]
    public async Task Refused_requests_show_in_the_page_and_open_no_dialog()
    {
        await using var demo = await DemoHost.StartAsync(WithPage(new Dictionary<string, string> { ["Chat:MaxRoomsPerClient"] = "1" }));
        await RunInChromiumAsync(demo.Url, """
            const { page, dialogs, showing } = await openPage(browser, URL + "/");
            const joinRoom = async (room) => {
              await page.$eval("#new-room", (input, value) => { input.value = value; }, room);
              await page.click("#join button");
            };
            const error = (text) => [...document.querySelectorAll("#errors [role=alert] .text")].some((e) => e.textContent === text);

            await logIn(page, "alice");
            await showing(() => !document.getElementById("chat").hidden, null, "the chat, connected");
            await joinRoom("first");
            await showing(() => document.querySelector("#tabs button")?.textContent === "first", null, "the first room joined");
            await joinRoom("second");
            await showing(error, "Joining #second failed: at most 1 rooms per client: leave one first.", "the refused join");

            await page.$eval("#text", (input) => { input.removeAttribute("maxlength"); input.value = "x".repeat(501); });
            await page.click("#send button");
            await showing(error, "Not sent: a message has at most 500 characters (this one has 501).", "the message too long");
            eq((await errors(page)).length, 2, "errors shown");
            await page.click("#errors [role=alert] button.dismiss");
            eq(await errors(page), ["Not sent: a message has at most 500 characters (this one has 501)."], "errors after dismissing the first");
            eq(dialogs, [], "dialogs opened");
            """, () => demo.Log);
    }

    /// <summary>
    /// The room list in natural order, whatever order the rooms were made in: "room 2" before "room 10", case aside. A
    /// lone gateway names no gateway in the status line.
    /// </summary>
    [Fact]
    public async Task Rooms_are_listed_in_natural_order()
    {
        await using var demo = await DemoHost.StartAsync(WithPage());
        await RunInChromiumAsync(demo.Url, """
            const member = await connected(connect("/", { forceNew: true, auth: { name: "member" } }));
            for (const room of ["room 10", "Room 2", "beta", "room 1", "Alpha"]) eq((await ack(member, "join", room))[0].ok, true, `joining ${room}`);

            const { page, showing } = await openPage(browser, URL + "/");
            await logIn(page, "viewer");
            await showing((n) => document.querySelectorAll("#rooms .name").length === n, 5, "the five rooms");
            eq(await page.$$eval("#rooms .name", (names) => names.map((n) => n.textContent)), ["#Alpha", "#beta", "#room 1", "#Room 2", "#room 10"], "the room list");
            const status = await page.$eval("#status", (s) => s.textContent);
            assert(status.startsWith("viewer · connected") && !status.includes("gateway"), `a lone gateway's status line: ${status}`);
            """, () => demo.Log);
    }

    /// <summary>
    /// Two gateways of one cluster: each page's status line names the gateway that holds its connection, by
    /// <c>Chat:GatewayName</c> or, unset, as <c>machine#silo-address:port</c>.
    /// </summary>
    [Fact]
    public async Task The_status_line_names_the_gateway_in_a_cluster()
    {
        await using var redis = await OrleansRooms.TestCluster.RedisServer.StartAsync();
        var cluster = DemoHost.ClusterSettings(redis, "demo-" + Guid.NewGuid().ToString("N")[..8]);
        await using var first = await DemoHost.StartAsync(WithPage(new Dictionary<string, string>(cluster) { ["Chat:GatewayName"] = "gateway-a" }));
        await using var second = await DemoHost.StartAsync(WithPage(cluster));
        await RunInChromiumAsync(first.Url, $$"""
            // One page after the other: a page in the background is not clicked.
            const { page: a, showing: showingA } = await openPage(browser, URL + "/");
            await logIn(a, "alice");
            await showingA(() => /^alice · connected over \w+ · gateway gateway-a$/.test(document.getElementById("status").textContent), null, "alice's gateway");
            const { page: b, showing: showingB } = await openPage(browser, {{System.Text.Json.JsonSerializer.Serialize(second.Url.ToString())}});
            await logIn(b, "bob");
            await showingB(() => /^bob · connected over \w+ · gateway \S+#127\.0\.0\.1:\d+$/.test(document.getElementById("status").textContent), null, "bob's gateway");
            """, () => $"--- first gateway\n{first.Log}\n--- second gateway\n{second.Log}");
    }

    [Theory]
    [InlineData(" ", "Chat:GatewayName must not be blank (leave it unset for the default).")]
    [InlineData("a-gateway-name-of-65-characters-which-is-one-more-than-the-limit-", "Chat:GatewayName must have 1 to 64 characters.")]
    public async Task A_blank_or_long_gateway_name_stops_the_demo_from_starting(string name, string error)
    {
        var (exitCode, log) = await DemoHost.RunRefusedAsync(new Dictionary<string, string> { ["Chat:GatewayName"] = name });

        Assert.NotEqual(0, exitCode);
        Assert.Contains(error, log, StringComparison.Ordinal);
    }

    /// <summary>
    /// The page and everything it asks for load: no failed request, no answer of 400 or more (a browser asks for
    /// /favicon.ico unless the page links an icon), no uncaught error; its icon is an SVG.
    /// </summary>
    [Fact]
    public async Task The_page_loads_with_its_icon_and_no_failed_request()
    {
        await using var demo = await DemoHost.StartAsync(WithPage());
        await RunInChromiumAsync(demo.Url, """
            const { page, failures, showing } = await openPage(browser, URL + "/");
            await logIn(page, "alice");
            await showing(() => document.getElementById("status").textContent === "alice · connected over websocket", null, "connected over WebSocket");
            await page.waitForNetworkIdle({ idleTime: 500, timeout: 30000 });
            eq(failures, [], "failed requests");
            const icon = await page.$eval("link[rel=icon]", async (link) => {
              const response = await fetch(link.href);
              return { status: response.status, type: response.headers.get("content-type"), svg: (await response.text()).includes("<svg") };
            }).catch((err) => ({ missing: err.message }));
            eq(icon, { status: 200, type: "image/svg+xml", svg: true }, "the page's icon");
            """, () => demo.Log);
    }

    /// <summary><paramref name="settings"/> and the demo's project folder as content root, where its page is.</summary>
    private static Dictionary<string, string> WithPage(IReadOnlyDictionary<string, string>? settings = null) =>
        new(settings ?? new Dictionary<string, string>()) { ["contentRoot"] = DemoHost.ProjectDirectory };

    /// <summary>
    /// Runs <paramref name="script"/> with <c>browser</c>, a headless chromium of a fresh profile, and the helpers of
    /// tests/conformance/demo-page.mjs; fails with <paramref name="log"/> (the demo's output) when the script fails.
    /// </summary>
    private async Task RunInChromiumAsync(Uri demo, string script, Func<string> log)
    {
        Assert.True(File.Exists("/usr/bin/chromium"), "Debian's chromium is not installed (tests/run installs it: apt-get install -y chromium)");
        var profile = Directory.CreateTempSubdirectory("chromium-profile-");
        try
        {
            output.WriteLine(await NodeScenario.RunAsync(demo, $$"""
                import { launchChromium, openPage, logIn, errors } from "./demo-page.mjs";
                const browser = await launchChromium({{System.Text.Json.JsonSerializer.Serialize(profile.FullName)}});
                try {
                {{script}}
                } finally {
                  await browser.close();
                }
                """, TimeSpan.FromSeconds(120)));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new Xunit.Sdk.XunitException($"{ex.Message}\n--- demo log\n{log()}");
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }
}
