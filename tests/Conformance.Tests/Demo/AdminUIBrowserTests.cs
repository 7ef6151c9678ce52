using System.Reflection;
using OrleansRooms.Conformance.Infrastructure;

namespace OrleansRooms.Conformance.Demo;

/// <summary>
/// The Socket.IO Admin UI of <c>@socket.io/admin-ui</c>, served by the demo host (<c>AdminUI:Path</c>), in headless
/// Debian chromium driven by puppeteer-core, over two demo gateways of one cluster: log in, see both gateways and their
/// sockets, disconnect a socket of the other gateway from the UI.
/// </summary>
public sealed class AdminUIBrowserTests
{
    private static readonly string ProjectDirectory = Path.GetFullPath(Path.Combine(
        typeof(AdminUIBrowserTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "HostOutput").Value!,
        "..", "..", ".."));

    [Fact]
    public async Task The_served_UI_logs_in_shows_both_gateways_and_their_sockets_and_disconnects_one()
    {
        await using var redis = await OrleansRooms.TestCluster.RedisServer.StartAsync();
        var cluster = DemoHost.ClusterSettings(redis, "admin-" + Guid.NewGuid().ToString("N")[..8]);
        Dictionary<string, string> Gateway(string serverId) => new(cluster)
        {
            // The project's folder as content root: the Admin UI's files are in its node_modules, as they are in a publish output.
            ["contentRoot"] = ProjectDirectory,
            ["AdminUI:Path"] = "/admin-ui",
            ["SocketIO:AdminUI:Auth:Type"] = "Basic",
            ["SocketIO:AdminUI:Auth:Username"] = "admin",
            ["SocketIO:AdminUI:Auth:Password"] = BCrypt.Net.BCrypt.HashPassword("s3cret!", workFactor: 4),
            ["SocketIO:AdminUI:Mode"] = "Development",
            ["SocketIO:AdminUI:ServerId"] = serverId,
        };
        await using var first = await DemoHost.StartAsync(Gateway("gateway-a"));
        await using var second = await DemoHost.StartAsync(Gateway("gateway-b"));
        var screenshot = Environment.GetEnvironmentVariable("ORLEANSROOMS_ADMIN_UI_SCREENSHOT") ?? Path.Combine(Path.GetTempPath(), $"admin-ui-{Guid.NewGuid():N}.png");
        using var chromium = Chromium.Create();
        try
        {
            await NodeScenario.RunAsync(first.Url, $$"""
                import puppeteer from "puppeteer-core";
                const B = {{System.Text.Json.JsonSerializer.Serialize(second.Url.ToString().TrimEnd('/'))}};
                const alice = await connected(connect("/", { forceNew: true, auth: { name: "alice" } }));
                const bob = await connected(io(B + "/", { reconnection: false, forceNew: true, auth: { name: "bob" } }));
                const bobId = bob.id;
                const bobGone = once(bob, "disconnect", 60000);

                const browser = await {{chromium.Launch("defaultViewport: { width: 1440, height: 1000 },")}};
                try {
                  const page = await browser.newPage();
                  // Waits until the page's text passes `test`; on timeout, fails with what the page showed.
                  const showing = async (test, arg, what) => {
                    try {
                      await page.waitForFunction(test, { timeout: 30000 }, arg);
                    } catch (err) {
                      throw new Error(`${what}: ${err.message}; the page at ${page.url()} showed:\n${await page.evaluate(() => document.body.innerText)}`);
                    }
                  };
                  // The page asks for web fonts on public CDNs: only loopback is reached.
                  await page.setRequestInterception(true);
                  page.on("request", (request) => new globalThis.URL(request.url()).hostname === "127.0.0.1" ? request.continue() : request.abort());
                  await page.goto(URL + "/admin-ui", { waitUntil: "domcontentloaded" });

                  // The connection form: server URL, user name, password.
                  await page.waitForSelector("form input", { visible: true, timeout: 30000 });
                  const [serverUrl, username, password] = await page.$$("form input");
                  await serverUrl.click({ clickCount: 3 });
                  await serverUrl.type(URL);
                  await username.type("admin");
                  await password.type("s3cret!");
                  await page.click("form button[type=submit]");

                  // Both gateways report as servers, wherever the UI is connected.
                  await page.goto(URL + "/admin-ui/#/servers");
                  await showing((ids) => ids.every((id) => document.body.innerText.includes(id)), ["gateway-a", "gateway-b"], "both gateways");

                  // Every socket of the cluster is listed; bob's (on gateway B) is disconnected from its row.
                  await page.goto(URL + "/admin-ui/#/sockets");
                  await showing((ids) => ids.every((id) => document.body.innerText.includes(id)), [alice.id, bobId], "both sockets");
                  await page.evaluate((id) => {
                    const row = [...document.querySelectorAll("tbody tr")].find((tr) => tr.innerText.includes(id));
                    row.querySelector("button").click();
                  }, bobId);
                  eq((await bobGone)[0], "io server disconnect", "bob's disconnect reason");
                  // The click also opened the socket's page (the row's own click): back to the list, which lost it.
                  await page.goto(URL + "/admin-ui/#/sockets");
                  await showing(([gone, stays]) => !document.body.innerText.includes(gone) && document.body.innerText.includes(stays), [bobId, alice.id], "bob's socket gone");
                  assert(alice.connected, "alice stays connected");
                  // The servers' own word: the cluster's sockets no longer include bob's.
                  const check = connect("/admin", { forceNew: true, auth: { username: "admin", password: "s3cret!" } });
                  const [all] = await once(check, "all_sockets", 30000);
                  eq(all.filter((s) => s.nsp === "/").map((s) => s.id), [alice.id], "sockets of the main namespace after the disconnect");

                  await page.goto(URL + "/admin-ui/#/");
                  // The dashboard's Servers card: two healthy servers.
                  await showing((title) => [...document.querySelectorAll(".v-card")]
                    .find((card) => card.querySelector(".v-card__title")?.innerText.trim() === title)?.querySelector("h2")?.innerText === "2", "Servers", "two healthy servers on the dashboard");
                  await page.screenshot({ path: {{System.Text.Json.JsonSerializer.Serialize(screenshot)}} });
                } finally {
                  await browser.close();
                }
                """, TimeSpan.FromSeconds(150));

            Assert.True(new FileInfo(screenshot).Length > 10_000, "the dashboard's screenshot");
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("ORLEANSROOMS_ADMIN_UI_SCREENSHOT") is null)
            {
                File.Delete(screenshot);
            }
        }
    }
}
