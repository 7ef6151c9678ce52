using OrleansRooms.Conformance.Infrastructure;

namespace OrleansRooms.Conformance;

/// <summary>The official client connects over each transport and upgrades.</summary>
public sealed class ConnectionTests
{
    [Fact]
    public async Task Connects_over_HTTP_long_polling()
    {
        var transport = Signal.Create<string>();
        await using var gateway = await TestGateway.StartAsync(io => io.OnConnection(async socket =>
        {
            transport.TrySetResult(socket.Transport);
            await socket.EmitAsync("welcome", socket.Id);
        }));

        await NodeScenario.RunAsync(gateway.Url, """
            const socket = connect("/", { transports: ["polling"] });
            const welcome = once(socket, "welcome");
            await connected(socket);
            eq((await welcome)[0], socket.id, "the id the server sent");
            eq(socket.io.engine.transport.name, "polling", "transport");
            """);

        Assert.Equal("polling", await transport.Within());
    }

    [Fact]
    public async Task Connects_over_WebSocket_only()
    {
        var transport = Signal.Create<string>();
        await using var gateway = await TestGateway.StartAsync(io => io.OnConnection(socket =>
        {
            transport.TrySetResult(socket.Transport);
            socket.On("echo", e => e.Ack(e.Get<string>(0)));
        }));

        await NodeScenario.RunAsync(gateway.Url, """
            const socket = await connected(connect("/", { transports: ["websocket"] }));
            eq(socket.io.engine.transport.name, "websocket", "transport");
            eq(await ack(socket, "echo", "hi"), ["hi"], "echo");
            """);

        Assert.Equal("websocket", await transport.Within());
    }

    [Fact]
    public async Task Upgrades_from_polling_to_WebSocket()
    {
        await using var gateway = await TestGateway.StartAsync(io => io.OnConnection(socket =>
            socket.On("transport", e => e.Ack(socket.Transport))));

        await NodeScenario.RunAsync(gateway.Url, """
            const socket = connect("/");
            eq(socket.io.engine.transport.name, "polling", "first transport");
            const upgrade = once(socket.io.engine, "upgrade");
            await connected(socket);
            const [transport] = await upgrade;
            eq(transport.name, "websocket", "upgraded to");
            eq(socket.io.engine.transport.name, "websocket", "transport after upgrade");
            eq(await ack(socket, "transport"), ["websocket"], "transport the server sees");
            """);
    }
}
