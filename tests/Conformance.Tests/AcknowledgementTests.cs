using OrleansRooms.Conformance.Infrastructure;

namespace OrleansRooms.Conformance;

/// <summary>Events and acknowledgements both ways.</summary>
public sealed class AcknowledgementTests
{
    [Fact]
    public async Task Client_event_gets_the_server_acknowledgement()
    {
        var received = Signal.Create<string>();
        await using var gateway = await TestGateway.StartAsync(io => io.OnConnection(socket => socket.On("sum", e =>
        {
            received.TrySetResult(e.Arguments.ToString());
            e.Ack(new { sum = e.Get<int>(0) + e.Get<int>(1), label = e.Get<Label>(2)!.Text });
        })));

        await NodeScenario.RunAsync(gateway.Url, """
            const socket = await connected(connect());
            eq(await ack(socket, "sum", 2, 3, { text: "first" }), [{ sum: 5, label: "first" }], "callback acknowledgement");
            eq(await socket.timeout(5000).emitWithAck("sum", 10, -4, { text: "second" }), { sum: 6, label: "second" }, "emitWithAck");
            """);

        Assert.Equal("""[2,3,{"text":"first"}]""", await received.Within());
    }

    [Fact]
    public async Task Client_ack_ids_past_2_pow_31_up_to_max_safe_integer_are_answered()
    {
        await using var gateway = await TestGateway.StartAsync(io => io.OnConnection(socket =>
            socket.On("echo", e => e.Ack(e.Get<string>(0)))));

        // The client numbers its acks from 0; a long-lived one (or another client library) may go far past an int.
        await NodeScenario.RunAsync(gateway.Url, """
            const socket = await connected(connect());
            const sent = [];
            socket.io.engine.on("packetCreate", (packet) => { if (packet.type === "message") sent.push(packet.data); });
            socket.ids = 2 ** 31;
            eq(await ack(socket, "echo", "2^31"), ["2^31"], "id 2^31");
            socket.ids = Number.MAX_SAFE_INTEGER;
            eq(await socket.timeout(5000).emitWithAck("echo", "2^53-1"), "2^53-1", "id 2^53-1");
            eq(sent, ['22147483648["echo","2^31"]', '29007199254740991["echo","2^53-1"]'], "the ids on the wire");
            eq(socket.connected, true, "still connected");
            """);
    }

    [Fact]
    public async Task Server_emit_with_ack_gets_the_client_answer()
    {
        var answer = Signal.Create<(int, string?)>();
        await using var gateway = await TestGateway.StartAsync(io => io.OnConnection(async socket =>
        {
            var response = await socket.Timeout(TimeSpan.FromSeconds(5)).EmitWithAckAsync("question", "6 x 7?");
            answer.TrySetResult((response.Get<int>(0), response.Get<string>(1)));
            await socket.EmitAsync("verdict", $"{response.Get<int>(0)} {response.Get<string>(1)}");
        }));

        await NodeScenario.RunAsync(gateway.Url, """
            const socket = connect();
            socket.on("question", (question, callback) => {
              eq(question, "6 x 7?", "question");
              callback(42, "sure");
            });
            eq(await once(socket, "verdict"), ["42 sure"], "what the server read");
            """);

        Assert.Equal((42, "sure"), await answer.Within());
    }

    [Fact]
    public async Task Server_emit_with_ack_times_out_when_the_client_does_not_answer()
    {
        var outcome = Signal.Create<string>();
        await using var gateway = await TestGateway.StartAsync(io => io.OnConnection(async socket =>
        {
            try
            {
                await socket.Timeout(TimeSpan.FromMilliseconds(300)).EmitWithAckAsync("ignored", 1);
                outcome.TrySetResult("acknowledged");
            }
            catch (TimeoutException)
            {
                outcome.TrySetResult("timed out");
                await socket.EmitAsync("timed-out");
            }
        }));

        await NodeScenario.RunAsync(gateway.Url, """
            const socket = connect();
            const asked = [];
            socket.on("ignored", (n, callback) => asked.push(n)); // never calls back
            await once(socket, "timed-out");
            eq(asked, [1], "the event arrived");
            """);

        Assert.Equal("timed out", await outcome.Within());
    }

    [Fact]
    public async Task Broadcast_with_acks_collects_every_client_answer()
    {
        await using var gateway = await TestGateway.StartAsync(io => io.OnConnection(socket => socket.On("poll", async e =>
        {
            var answers = await io.Timeout(TimeSpan.FromSeconds(5)).EmitWithAckAsync("vote", "lunch?");
            // One argument, the array: a string[] would otherwise bind to params object?[] as the argument list.
            e.Ack((object)answers.Select(a => a.Get<string>(0)).Order(StringComparer.Ordinal).ToArray());
        })));

        await NodeScenario.RunAsync(gateway.Url, """
            const [a, b] = await Promise.all([connected(connect()), connected(connect())]);
            a.on("vote", (question, callback) => callback(question === "lunch?" ? "pizza" : "?"));
            b.on("vote", (question, callback) => callback(question === "lunch?" ? "salad" : "?"));
            eq(await ack(a, "poll"), [["pizza", "salad"]], "both answers");
            """);
    }

    [Fact]
    public async Task Broadcast_ack_timeout_keeps_the_answers_that_arrived()
    {
        await using var gateway = await TestGateway.StartAsync(io => io.OnConnection(socket => socket.On("poll", async e =>
        {
            try
            {
                await io.Timeout(TimeSpan.FromMilliseconds(300)).EmitWithAckAsync("vote", "lunch?");
                e.Ack("no timeout");
            }
            catch (BroadcastAckTimeoutException ex)
            {
                e.Ack((object)ex.Responses.Select(a => a.Get<string>(0)).ToArray());
            }
        })));

        await NodeScenario.RunAsync(gateway.Url, """
            const [a, b] = await Promise.all([connected(connect()), connected(connect())]);
            a.on("vote", (question, callback) => callback("pizza"));
            b.on("vote", () => {}); // never answers
            eq(await ack(a, "poll"), [["pizza"]], "the answers received before the timeout");
            """);
    }

    private sealed record Label(string Text);
}
