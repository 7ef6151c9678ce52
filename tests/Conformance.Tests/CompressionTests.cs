using OrleansRooms.Conformance.Infrastructure;
using OrleansRooms.Engine;

namespace OrleansRooms.Conformance;

/// <summary>
/// <c>permessage-deflate</c> with real clients: node's <c>socket.io-client</c> (through <c>ws</c>) and Debian's chromium
/// negotiate it, and large messages go both ways compressed and arrive intact.
/// </summary>
public sealed class CompressionTests
{
    // Compressible, and larger than the threshold of the server (1024) and of node's client (1024).
    private const string LargeJs = """Array.from({ length: 2000 }, (_, i) => `line ${i} of a large message`).join("\n")""";

    [Fact]
    public async Task Node_client_negotiates_deflate_and_large_messages_go_both_ways()
    {
        await using var gateway = await StartAsync();

        await NodeScenario.RunAsync(gateway.Url, $$"""
            const large = {{LargeJs}};
            const socket = connect("/", { transports: ["websocket"] });
            const big = once(socket, "big");
            await connected(socket);

            const extensions = socket.io.engine.transport.ws.extensions;
            assert(extensions.startsWith("permessage-deflate"), `negotiated extensions: '${extensions}'`);
            const [fromServer] = await big;
            eq(fromServer, large, "the server's large event");
            const [echo] = await ack(socket, "upload", large);
            eq(echo, large, "the large event the server read and sent back");
            """);
    }

    [Fact]
    public async Task Chromium_negotiates_deflate_and_large_messages_go_both_ways()
    {
        await using var gateway = await StartAsync();
        using var chromium = Chromium.Create();
        await NodeScenario.RunAsync(gateway.Url, $$"""
            import puppeteer from "puppeteer-core";
            const browser = await {{chromium.Launch()}};
            try {
              const page = await browser.newPage();
              await page.setRequestInterception(true);
              page.on("request", (request) => new globalThis.URL(request.url()).hostname === "127.0.0.1" ? request.continue() : request.abort());
              await page.goto(URL + "/socket.io/?EIO=4&transport=polling", { waitUntil: "domcontentloaded" });
              await page.addScriptTag({ path: "node_modules/socket.io-client/dist/socket.io.min.js" });
              const result = await page.evaluate(async (url) => {
                const large = {{LargeJs}};
                const socket = io(url, { transports: ["websocket"], reconnection: false });
                const fromServer = await new Promise((resolve, reject) => {
                  setTimeout(() => reject(new Error("no 'big' event within 15 s")), 15000);
                  socket.on("connect_error", (err) => reject(new Error(`connect_error: ${err.message}`)));
                  socket.on("big", resolve);
                });
                const echo = await socket.timeout(15000).emitWithAck("upload", large);
                const extensions = socket.io.engine.transport.ws.extensions;
                socket.disconnect();
                return { extensions, fromServerOk: fromServer === large, echoOk: echo === large };
              }, URL);
              assert(result.extensions.startsWith("permessage-deflate"), `negotiated extensions: '${result.extensions}'`);
              assert(result.fromServerOk, "the server's large event reached the page intact");
              assert(result.echoOk, "the page's large event reached the server intact and came back");
            } finally {
              await browser.close();
            }
            """, TimeSpan.FromSeconds(60));
    }

    private static Task<TestGateway> StartAsync() => TestGateway.StartAsync(
        io => io.OnConnection(async socket =>
        {
            socket.On("upload", e => e.Ack(e.Get<string>(0)));
            await socket.EmitAsync("big", string.Join("\n", Enumerable.Range(0, 2000).Select(i => $"line {i} of a large message")));
        }),
        options => options.PerMessageDeflate = new PerMessageDeflateOptions());
}
