using OrleansRooms.Conformance.Infrastructure;

namespace OrleansRooms.Conformance;

/// <summary>Catch-all listeners and volatile events.</summary>
public sealed class EventTests
{
    [Fact]
    public async Task OnAny_sees_every_event_before_its_handlers()
    {
        var handled = Signal.Create<string?>();
        await using var gateway = await TestGateway.StartAsync(io => io.OnConnection(socket =>
        {
            var seen = new List<string>();
            socket.OnAny(e =>
            {
                lock (seen)
                {
                    seen.Add($"{e.Name} {e.Arguments}");
                }
            });
            socket.On("b", e => handled.TrySetResult(e.Get<string>(0)));
            socket.On("report", e =>
            {
                lock (seen)
                {
                    e.Ack((object)seen.ToArray());
                }
            });
        }));

        await NodeScenario.RunAsync(gateway.Url, """
            const socket = await connected(connect());
            socket.emit("a", 1, { x: true });
            socket.emit("b", "x");
            eq(await ack(socket, "report"), [['a [1,{"x":true}]', 'b ["x"]', "report []"]], "events seen by onAny");
            """);

        Assert.Equal("x", await handled.Within());
    }

    [Fact]
    public async Task Volatile_emits_may_drop_but_never_reorder_or_break_the_connection()
    {
        await using var gateway = await TestGateway.StartAsync(io => io.OnConnection(socket =>
        {
            socket.On("burst", async _ =>
            {
                for (var i = 0; i < 100; i++)
                {
                    await socket.Volatile.EmitAsync("tick", i);
                }

                await io.Volatile.EmitAsync("tock", "all");
                await socket.EmitAsync("end", 100);
            });
            socket.On("ping-me", e => e.Ack("pong"));
        }));

        await NodeScenario.RunAsync(gateway.Url, """
            for (const transports of [["polling"], ["websocket"]]) {
              const socket = await connected(connect("/", { transports }));
              const ticks = record(socket, "tick");
              const tocks = record(socket, "tock");
              const end = once(socket, "end");
              socket.emit("burst");
              eq(await end, [100], `${transports}: the reliable event after the volatile ones`);
              assert(ticks.every((n, i) => Number.isInteger(n) && n >= 0 && n < 100 && (i === 0 || n > ticks[i - 1])),
                `${transports}: volatile ticks are in order, each at most once: ${JSON.stringify(ticks)}`);
              assert(tocks.length <= 1 && tocks.every((t) => t === "all"), `${transports}: tocks ${JSON.stringify(tocks)}`);
              eq(await ack(socket, "ping-me"), ["pong"], `${transports}: the connection still works`);
              socket.disconnect();
            }
            """);
    }
}
