using OrleansRooms.Conformance.Infrastructure;

namespace OrleansRooms.Conformance;

/// <summary>
/// Rooms as the Socket.IO docs describe them, with three official clients a, b and c. After each broadcast the server
/// emits <c>fence</c> to everyone; a connection keeps order, so what a client has not received by its fence it never will.
/// </summary>
public sealed class RoomTests
{
    private const string Clients = """
        const [a, b, c] = await Promise.all([connected(connect()), connected(connect()), connected(connect())]);
        const news = { a: record(a, "news"), b: record(b, "news"), c: record(c, "news") };
        async function broadcast(from, event, target) {
          const fences = [a, b, c].map((s) => once(s, "fence"));
          await ack(from, event, target);
          await Promise.all(fences);
        }
        """;

    [Fact]
    public async Task Io_to_a_room_reaches_its_members_only()
    {
        await RunAsync("""
            await ack(a, "join", ["r1"]);
            eq(await ack(b, "join", ["r1"]), [["r1"]], "b's rooms");
            await broadcast(c, "io-emit", { to: ["r1"], except: [], tag: "t1" });
            eq(news, { a: ["t1"], b: ["t1"], c: [] }, "received");
            """);
    }

    [Fact]
    public async Task Io_to_two_rooms_delivers_once_to_a_member_of_both()
    {
        await RunAsync("""
            eq(await ack(a, "join", ["r1", "r2"]), [["r1", "r2"]], "a's rooms");
            await ack(b, "join", ["r2"]);
            await broadcast(c, "io-emit", { to: ["r1", "r2"], except: [], tag: "union" });
            eq(news, { a: ["union"], b: ["union"], c: [] }, "received");
            """);
    }

    [Fact]
    public async Task Socket_to_a_room_excludes_the_sender()
    {
        await RunAsync("""
            await Promise.all([ack(a, "join", ["r1"]), ack(b, "join", ["r1"])]);
            await broadcast(a, "socket-emit", { to: ["r1"], except: [], tag: "from a" });
            eq(news, { a: [], b: ["from a"], c: [] }, "received");
            """);
    }

    [Fact]
    public async Task Except_excludes_the_members_of_a_room()
    {
        await RunAsync("""
            await Promise.all([ack(a, "join", ["r1"]), ack(b, "join", ["r1", "vip"])]);
            await broadcast(c, "io-emit", { to: ["r1"], except: ["vip"], tag: "r1 but vip" });
            await broadcast(c, "io-emit", { to: [], except: ["vip"], tag: "all but vip" });
            eq(news, { a: ["r1 but vip", "all but vip"], b: [], c: ["all but vip"] }, "received");
            """);
    }

    [Fact]
    public async Task Each_socket_is_in_the_room_named_by_its_id()
    {
        await RunAsync("""
            await broadcast(a, "io-emit", { to: [b.id], except: [], tag: "for b" });
            eq(news, { a: [], b: ["for b"], c: [] }, "received");
            """);
    }

    private static async Task RunAsync(string scenario)
    {
        await using var gateway = await TestGateway.StartAsync(io => io.OnConnection(socket =>
        {
            socket.On("join", async e =>
            {
                await socket.JoinAsync(e.Get<string[]>(0)!);
                e.Ack((object)socket.Rooms.Where(r => r != socket.Id).Order(StringComparer.Ordinal).ToArray());
            });
            socket.On("io-emit", async e =>
            {
                var target = e.Get<Target>(0)!;
                var op = target.To.Length > 0 ? io.To(target.To).Except(target.Except) : io.Except(target.Except);
                await op.EmitAsync("news", target.Tag);
                await io.EmitAsync("fence");
                e.Ack();
            });
            socket.On("socket-emit", async e =>
            {
                var target = e.Get<Target>(0)!;
                var op = target.To.Length > 0 ? socket.To(target.To).Except(target.Except) : socket.Except(target.Except);
                await op.EmitAsync("news", target.Tag);
                await io.EmitAsync("fence");
                e.Ack();
            });
        }));

        await NodeScenario.RunAsync(gateway.Url, Clients + scenario);
    }

    private sealed record Target(string[] To, string[] Except, string Tag);
}
