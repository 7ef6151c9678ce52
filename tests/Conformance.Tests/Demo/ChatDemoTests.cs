using OrleansRooms.Conformance.Infrastructure;
using Xunit.Abstractions;

namespace OrleansRooms.Conformance.Demo;

/// <summary>The chat demo (src/Gateway/Host) with the official client: what one busy client costs everyone else.</summary>
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
}
