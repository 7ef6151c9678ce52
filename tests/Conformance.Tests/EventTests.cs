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
    public async Task PrependAny_runs_first_and_OffAny_removes_one_listener_or_all()
    {
        await using var gateway = await TestGateway.StartAsync(io => io.OnConnection(socket =>
        {
            var seen = new List<string>();
            Action<SocketEvent> Recorder(string who) => e =>
            {
                lock (seen)
                {
                    seen.Add($"{who}:{e.Name}");
                }
            };
            var first = Recorder("first");
            socket.OnAny(first).OnAny(Recorder("second")).PrependAny(Recorder("prepended"));
            socket.On("remove-first", e => e.Ack(socket.OffAny(first) == socket));
            socket.On("remove-all", e => e.Ack(socket.OffAny() == socket));
            socket.On("report", e =>
            {
                lock (seen)
                {
                    e.Ack((object)seen.ToArray());
                    seen.Clear();
                }
            });
        }));

        await NodeScenario.RunAsync(gateway.Url, """
            const socket = await connected(connect());
            socket.emit("a");
            eq(await ack(socket, "report"), [["prepended:a", "first:a", "second:a", "prepended:report", "first:report", "second:report"]], "the prepended listener runs first");
            eq(await ack(socket, "remove-first"), [true], "offAny(listener) chains");
            socket.emit("b");
            eq(await ack(socket, "report"), [["prepended:remove-first", "first:remove-first", "second:remove-first", "prepended:b", "second:b", "prepended:report", "second:report"]], "one listener removed");
            eq(await ack(socket, "remove-all"), [true], "offAny() chains");
            socket.emit("c");
            eq(await ack(socket, "report"), [["prepended:remove-all", "second:remove-all"]], "every listener removed");
            """);
    }

    [Fact]
    public async Task PrependAnyOutgoing_runs_first_and_OffAnyOutgoing_removes_one_listener_or_all()
    {
        await using var gateway = await TestGateway.StartAsync(io => io.OnConnection(socket =>
        {
            var seen = new List<string>();
            Action<string, object?[]> Recorder(string who) => (name, args) =>
            {
                lock (seen)
                {
                    seen.Add($"{who}:{name}:{args.Length}");
                }
            };
            var first = Recorder("first");
            socket.OnAnyOutgoing(first).OnAnyOutgoing(Recorder("second")).PrependAnyOutgoing(Recorder("prepended"));
            socket.On("send", async e =>
            {
                await socket.EmitAsync("out-1", 1);
                socket.OffAnyOutgoing(first);
                await socket.Server.To(socket.Id).EmitAsync("out-2", 1, 2);
                socket.OffAnyOutgoing();
                await socket.EmitAsync("out-3");
                lock (seen)
                {
                    e.Ack((object)seen.ToArray());
                }
            });
        }));

        await NodeScenario.RunAsync(gateway.Url, """
            const socket = await connected(connect());
            const received = record(socket, "out-3");
            eq(await ack(socket, "send"), [["prepended:out-1:1", "first:out-1:1", "second:out-1:1", "prepended:out-2:2", "second:out-2:2"]], "outgoing listeners");
            eq(received.length, 1, "out-3 still sent");
            """);
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
