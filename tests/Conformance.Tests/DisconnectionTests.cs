using OrleansRooms.Conformance.Infrastructure;

namespace OrleansRooms.Conformance;

/// <summary>Disconnection by the server and reconnection by the client.</summary>
public sealed class DisconnectionTests
{
    [Fact]
    public async Task Server_disconnect_gives_the_client_io_server_disconnect()
    {
        var serverReason = Signal.Create<string>();
        await using var gateway = await TestGateway.StartAsync(io => io.OnConnection(socket =>
        {
            socket.On("kick-me", async _ => await socket.DisconnectAsync());
            socket.OnDisconnect(reason => serverReason.TrySetResult(reason));
        }));

        await NodeScenario.RunAsync(gateway.Url, """
            const socket = await connected(connect("/", { reconnection: true }));
            const disconnect = once(socket, "disconnect");
            socket.emit("kick-me");
            eq((await disconnect)[0], "io server disconnect", "client-side reason");
            eq(socket.active, false, "the client does not reconnect after a server disconnect");
            """);

        Assert.Equal(DisconnectReason.ServerNamespaceDisconnect, await serverReason.Within());
    }

    [Fact]
    public async Task Client_reconnects_after_the_server_closes_the_transport()
    {
        var ready = Signal.Create<bool>();
        await using var first = await TestGateway.StartAsync(io => io.OnConnection(socket =>
            socket.On("ready", _ => ready.TrySetResult(true))));

        var scenario = NodeScenario.RunAsync(first.Url, """
            const socket = await connected(connect("/", { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 200 }));
            const firstId = socket.id;
            const disconnect = once(socket, "disconnect", 10000);
            const reconnect = once(socket.io, "reconnect", 10000);
            socket.emit("ready");
            eq((await disconnect)[0], "transport close", "client-side reason");
            await reconnect;
            await connected(socket);
            assert(socket.id !== firstId, "a new session gets a new id");
            eq(await ack(socket, "who"), ["second server"], "answered by the restarted server");
            """);

        // The restart happens once the client is connected: the first gateway stops, a second takes its port.
        await ready.Within();
        await first.StopAsync();
        await using var second = await TestGateway.StartAsync(
            io => io.OnConnection(socket => socket.On("who", e => e.Ack("second server"))),
            port: first.Url.Port);

        await scenario;
    }

    // Sessions must be closed before Kestrel drains (IHostedLifecycleService.StoppingAsync), or Kestrel waits out its
    // ShutdownTimeout for the parked GET or the WebSocket and aborts it, and polling clients see a reset.
    [Theory]
    [InlineData("polling")]
    [InlineData("websocket")]
    public async Task Server_shutdown_closes_each_session_cleanly_before_the_server_stops(string transport)
    {
        var ready = Signal.Create<bool>();
        var gateway = await TestGateway.StartAsync(io => io.OnConnection(socket => socket.On("ready", _ => ready.TrySetResult(true))));
        var scenario = NodeScenario.RunAsync(gateway.Url, $$"""
            const socket = await connected(connect("/", { transports: ["{{transport}}"] }));
            const disconnect = once(socket, "disconnect", 10000);
            socket.emit("ready");
            eq((await disconnect)[0], "transport close", "client-side reason");
            """);

        await ready.Within();
        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await gateway.DisposeAsync();

        // The host waits for open requests up to its shutdown timeout (2 s here): sessions closed first leave none.
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(1), $"stopping took {stopping.Elapsed}");
        await scenario;
    }
}
