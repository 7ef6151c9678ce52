using System.Threading.Channels;
using OrleansRooms.Silo.Tests.Infrastructure;
using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Gateways;

/// <summary>
/// Presence on two gateways of an Orleans test cluster: a room's count and its member pages come from the room grain
/// and include the sockets of both gateways, a walk of the pages lists each member present throughout exactly once
/// while others come and go, and the join and leave of a socket on one gateway are raised on the other once subscribed.
/// </summary>
public sealed class RoomPresenceTests() : GatewayClusterTest(new OrleansGatewayCluster(gateways: 2) { FaultInjection = true })
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private readonly string _room = "presence-" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task The_count_and_the_pages_of_a_room_include_the_sockets_of_every_gateway()
    {
        var members = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            var socket = await ConnectAsync(i % 2);
            await socket.JoinAsync(_room);
            members.Add(socket.Id);
        }

        foreach (var gateway in Cluster.Gateways)
        {
            var adapter = gateway.Io.Sockets.Adapter;
            Assert.Equal(10, await adapter.GetRoomMemberCountAsync(_room));

            var listed = new List<string>();
            string? token = null;
            var pages = 0;
            do
            {
                var page = await adapter.GetRoomMembersAsync(_room, pageSize: 3, token);
                Assert.InRange(page.SocketIds.Count, 1, 3);
                listed.AddRange(page.SocketIds);
                token = page.ContinuationToken;
                pages++;
            }
            while (token is not null);

            Assert.Equal(4, pages);
            Assert.Equal(members.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task A_walk_while_members_come_and_go_lists_each_member_present_throughout_exactly_once()
    {
        var sockets = new List<Socket>();
        for (var i = 0; i < 24; i++)
        {
            var socket = await ConnectAsync(i % 2);
            await socket.JoinAsync(_room);
            sockets.Add(socket);
        }

        var adapter = Cluster.Gateways[1].Io.Sockets.Adapter;
        var everyone = sockets.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var listed = new List<string>();
        var left = new HashSet<string>(StringComparer.Ordinal);
        var joined = new HashSet<string>(StringComparer.Ordinal);
        string? token = null;
        do
        {
            var page = await adapter.GetRoomMembersAsync(_room, pageSize: 4, token);
            listed.AddRange(page.SocketIds);
            token = page.ContinuationToken;

            // Between pages, members already listed leave (a walk by position would then skip as many), and new
            // sockets join (wherever their ids fall in the order).
            foreach (var id in page.SocketIds.Take(2))
            {
                await everyone[id].LeaveAsync(_room);
                left.Add(id);
            }

            var newcomer = await ConnectAsync(listed.Count % 2);
            await newcomer.JoinAsync(_room);
            joined.Add(newcomer.Id);
            everyone[newcomer.Id] = newcomer;
        }
        while (token is not null);

        Assert.Equal(listed.Count, listed.Distinct(StringComparer.Ordinal).Count());
        var throughout = sockets.Select(s => s.Id).Where(id => !left.Contains(id));
        foreach (var id in throughout)
        {
            Assert.Contains(id, listed);
        }

        Assert.All(listed, id => Assert.True(sockets.Any(s => s.Id == id) || joined.Contains(id), id));
    }

    [Fact]
    public async Task A_join_and_a_leave_on_one_gateway_are_raised_on_the_other_once_subscribed()
    {
        var seen = Channel.CreateUnbounded<(string Change, string Room, string Id)>();
        var presence = Cluster.Gateways[1].Io.Sockets.Presence;
        var adapter = Cluster.Gateways[1].Io.Sockets.Adapter;
        presence.Joined += (room, id) => seen.Writer.TryWrite(("joined", room, id));
        presence.Left += (room, id) => seen.Writer.TryWrite(("left", room, id));
        Cluster.Gateways[0].Io.Sockets.Presence.Joined += (_, _) => { };

        var socket = await ConnectAsync(0);
        var other = await ConnectAsync(0);
        await socket.JoinAsync(_room);
        Assert.Equal(("joined", _room, socket.Id), await NextAsync(seen));
        // Raised once the room grain has the member: a count read then includes it.
        Assert.Equal(1, await adapter.GetRoomMemberCountAsync(_room));

        await other.JoinAsync([_room, _room + "-b"]);
        Assert.Equal(("joined", _room, other.Id), await NextAsync(seen));
        Assert.Equal(("joined", _room + "-b", other.Id), await NextAsync(seen));

        await socket.LeaveAsync(_room);
        Assert.Equal(("left", _room, socket.Id), await NextAsync(seen));

        // A disconnection takes the socket out of its rooms (its own room is never reported).
        await Clients.Single(c => c.Id == other.Id).CloseAsync();
        var leaves = new[] { await NextAsync(seen), await NextAsync(seen) };
        Assert.Equal(
            new[] { ("left", _room, other.Id), ("left", _room + "-b", other.Id) }.Order(),
            leaves.Order());
        Assert.Equal(0, await adapter.GetRoomMemberCountAsync(_room));
        Assert.False(seen.Reader.TryRead(out _));
    }

    [Fact]
    public async Task Presence_is_off_until_a_gateway_subscribes()
    {
        var seen = Channel.CreateUnbounded<(string Change, string Room, string Id)>();
        var publisher = Cluster.Gateways[0].Io.Sockets.Presence;
        Cluster.Gateways[1].Io.Sockets.Presence.Joined += (room, id) => seen.Writer.TryWrite(("joined", room, id));
        Assert.False(publisher.IsSubscribed);

        var socket = await ConnectAsync(0);
        await socket.JoinAsync(_room + "-unseen");

        // Once gateway 0 subscribes it sends its changes, in the order it records them: had the first join been sent,
        // it would arrive before this one.
        publisher.Joined += (_, _) => { };
        await socket.JoinAsync(_room);
        Assert.Equal(("joined", _room, socket.Id), await NextAsync(seen));
        Assert.False(seen.Reader.TryRead(out _));
    }

    [Fact]
    public async Task A_gateway_that_does_not_answer_is_logged_once_until_it_answers_again()
    {
        var seen = Channel.CreateUnbounded<(string Change, string Room, string Id)>();
        Cluster.Gateways[1].Io.Sockets.Presence.Joined += (room, id) => seen.Writer.TryWrite(("joined", room, id));
        Cluster.Gateways[0].Io.Sockets.Presence.Joined += (_, _) => { };
        using var log = LogCapture.Attach(Cluster.Gateways[0].Services);
        var socket = await ConnectAsync(0);
        using var calls = Faults.Count(_room);

        async Task JoinUnansweredAsync(string room)
        {
            // One batch per join: the next join is made once this one's call was refused.
            var before = Faults.CallsOf("PresenceAsync", _room);
            await socket.JoinAsync(room);
            await Eventually.HoldsAsync(() => Faults.CallsOf("PresenceAsync", _room) > before, "the presence call", Wait);
        }

        int Warnings() => log.Entries.Count(e => e.Message.Contains("did not reach gateway", StringComparison.Ordinal));

        using (Faults.Fail("PresenceAsync", _room, static () => new SiloUnavailableException("injected")))
        {
            for (var i = 0; i < 3; i++)
            {
                await JoinUnansweredAsync($"{_room}-lost{i}");
            }
        }

        // The loop sends a batch once the one before was answered: once this one arrives, the refusals were all logged.
        await socket.JoinAsync(_room + "-answered");
        Assert.Equal(("joined", _room + "-answered", socket.Id), await NextAsync(seen));
        Assert.Equal(1, Warnings());

        // It answered again: the next refusal is news.
        using (Faults.Fail("PresenceAsync", _room, static () => new SiloUnavailableException("injected")))
        {
            await JoinUnansweredAsync(_room + "-lost-again");
        }

        await socket.JoinAsync(_room + "-answered-again");
        Assert.Equal(("joined", _room + "-answered-again", socket.Id), await NextAsync(seen));
        Assert.Equal(2, Warnings());
    }

    private static async Task<(string Change, string Room, string Id)> NextAsync(Channel<(string Change, string Room, string Id)> seen)
    {
        using var timeout = new CancellationTokenSource(Wait);
        return await seen.Reader.ReadAsync(timeout.Token);
    }

    private async Task<Socket> ConnectAsync(int gateway)
    {
        var node = Cluster.Gateways[gateway];
        var client = await TestClient.ConnectAsync(node.Url);
        Clients.Add(client);
        return node.Io.Sockets.Sockets[client.Id];
    }
}
