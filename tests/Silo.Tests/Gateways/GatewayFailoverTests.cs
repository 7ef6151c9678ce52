using System.Collections.Concurrent;
using Orleans;
using OrleansRooms.Grains.Membership;
using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Gateways;

/// <summary>
/// Three gateways on an Orleans test cluster, through real clients: a gateway killed, stopped or added, and grains lost
/// with a silo. The first gateway holds the test cluster's membership table, so the others are the ones that go.
/// </summary>
public sealed class GatewayFailoverTests : IAsyncLifetime, IAsyncDisposable
{
    private static readonly TimeSpan FailoverWait = TimeSpan.FromSeconds(30);
    private readonly List<TestClient> _clients = [];
    private readonly OrleansGatewayCluster _cluster = new(gateways: 3);

    public Task InitializeAsync() => _cluster.StartAsync();

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task A_killed_gateways_sockets_leave_their_rooms_cluster_wide_and_the_room_events_are_raised_once()
    {
        var (staying, stayingSocket) = await ConnectAsync(0);
        var (_, doomedSocket) = await ConnectAsync(2);
        await stayingSocket.JoinAsync("room");
        await doomedSocket.JoinAsync(["room", "other"]);
        var events = new ConcurrentQueue<string>();
        var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        foreach (var gateway in _cluster.Gateways.Take(2))
        {
            var adapter = gateway.Io.Sockets.Adapter;
            adapter.LeaveRoom += (room, id) => events.Enqueue($"leave-room {room} {id}");
            adapter.DeleteRoom += room =>
            {
                events.Enqueue($"delete-room {room}");
                if (room == "other")
                {
                    released.TrySetResult();
                }
            };
        }

        await _cluster.KillGatewayAsync(_cluster.Gateways[2]);
        await released.Task.WaitAsync(FailoverWait);
        await _cluster.WhenRepublishedAsync(2).WaitAsync(FailoverWait);

        var survivor = _cluster.Gateways[0].Io.Sockets.Adapter;
        Assert.Equal([stayingSocket.Id], await survivor.GetRoomMembersAsync("room"));
        Assert.Empty(await survivor.GetRoomMembersAsync("other"));
        Assert.Empty(await survivor.GetSocketRoomsAsync(doomedSocket.Id));
        Assert.DoesNotContain(doomedSocket.Id, await survivor.GetSocketIdsAsync());
        Assert.Equal(
            [
                $"leave-room {doomedSocket.Id} {doomedSocket.Id}", $"delete-room {doomedSocket.Id}",
                $"leave-room room {doomedSocket.Id}",
                $"leave-room other {doomedSocket.Id}", "delete-room other",
            ],
            events.ToArray());
        await _cluster.Gateways[1].Io.To("room").EmitAsync("still here");
        await staying.ExpectEventAsync("still here");
    }

    [Fact]
    public async Task A_gateway_that_stops_cleanly_removes_its_sockets_at_once()
    {
        var (_, stayingSocket) = await ConnectAsync(0);
        var (_, leavingSocket) = await ConnectAsync(2);
        await stayingSocket.JoinAsync("room");
        await leavingSocket.JoinAsync("room");

        await _cluster.StopGatewayAsync(_cluster.Gateways[2]);

        var adapter = _cluster.Gateways[0].Io.Sockets.Adapter;
        Assert.Equal([stayingSocket.Id], await adapter.GetRoomMembersAsync("room"));
        Assert.Equal([stayingSocket.Id], await adapter.GetSocketIdsAsync());
    }

    [Fact]
    public async Task A_gateway_added_later_takes_part_in_broadcasts()
    {
        var (first, firstSocket) = await ConnectAsync(0);
        await firstSocket.JoinAsync("room");
        var added = await _cluster.AddGatewayAsync();
        var (late, lateSocket) = await ConnectAsync(_cluster.Gateways.Count - 1);
        await lateSocket.JoinAsync("room");

        await _cluster.Gateways[0].Io.To("room").EmitAsync("hello");
        await added.Io.EmitAsync("from the new one");

        await first.ExpectEventAsync("hello");
        await late.ExpectEventAsync("hello");
        await first.ExpectEventAsync("from the new one");
        await late.ExpectEventAsync("from the new one");
    }

    [Fact]
    public async Task Room_grains_lost_with_a_silo_are_rebuilt_from_the_surviving_gateways()
    {
        var (a, aSocket) = await ConnectAsync(0);
        var (b, bSocket) = await ConnectAsync(1);
        var (_, cSocket) = await ConnectAsync(2);
        var doomed = _cluster.Gateways[2];
        // A room grain lives with the gateway that first wrote it: c's, about to be killed.
        await cSocket.JoinAsync("room");
        await aSocket.JoinAsync("room");
        await bSocket.JoinAsync("room");
        var room = _cluster.Orleans.Client.GetGrain<IRoomGrain>(GrainKeys.Of("/", "room"));
        Assert.Equal(_cluster.SiloOf(doomed), await _cluster.Orleans.Client.GetGrain<IManagementGrain>(0).GetActivationAddress(room));

        await _cluster.KillGatewayAsync(doomed);
        await _cluster.WhenRepublishedAsync(2).WaitAsync(FailoverWait);

        var adapter = _cluster.Gateways[0].Io.Sockets.Adapter;
        Assert.Equal(new HashSet<string> { aSocket.Id, bSocket.Id }, (await adapter.GetRoomMembersAsync("room")).ToHashSet());
        Assert.Contains("room", await adapter.GetRoomNamesAsync());
        await _cluster.Gateways[0].Io.To("room").EmitAsync("after the loss");
        await a.ExpectEventAsync("after the loss");
        await b.ExpectEventAsync("after the loss");
    }

    [Fact]
    public async Task ServerSideEmit_reaches_the_other_gateways_and_collects_their_acks()
    {
        foreach (var gateway in _cluster.Gateways)
        {
            var name = _cluster.SiloOf(gateway).ToString();
            gateway.Io.Sockets.OnServerSideEmit("hello", e => e.Ack(name + ":" + e.Get<string>(0)));
        }

        var responses = await _cluster.Gateways[0].Io.Sockets.ServerSideEmitWithAckAsync("hello", "world");

        var expected = _cluster.Gateways.Skip(1).Select(g => _cluster.SiloOf(g) + ":world").Order();
        Assert.Equal(expected, responses.Select(r => r.Get<string>(0)!).Order());
    }

    [Fact]
    public async Task A_broadcast_ack_without_timeout_completes_when_a_gateway_it_reached_dies()
    {
        var (answering, answeringSocket) = await ConnectAsync(0);
        var (_, silentSocket) = await ConnectAsync(2);
        answering.AutoAcks["question"] = "yes";
        await answeringSocket.JoinAsync("room");
        await silentSocket.JoinAsync("room");
        var question = _cluster.Gateways[0].Io.To("room").EmitWithAckAsync("question");

        // The client on the doomed gateway never answers; its gateway dies with the question pending.
        await _cluster.KillGatewayAsync(_cluster.Gateways[2]);

        var answers = await question.WaitAsync(FailoverWait);
        Assert.Equal(["yes"], answers.Select(a => a.Get<string>(0)));
    }

    [Fact]
    public async Task Emits_awaited_one_after_the_other_reach_every_socket_in_that_order()
    {
        var receivers = new List<TestClient>();
        for (var i = 0; i < 3; i++)
        {
            var (client, socket) = await ConnectAsync(i);
            await socket.JoinAsync("room");
            receivers.Add(client);
        }

        var io = _cluster.Gateways[1].Io;
        for (var i = 0; i < 20; i++)
        {
            await (i % 2 == 0 ? io.To("room").EmitAsync("n", i) : io.EmitAsync("n", i));
        }

        foreach (var client in receivers)
        {
            for (var i = 0; i < 20; i++)
            {
                Assert.Equal(i, (await client.ExpectEventAsync("n"))[0].GetInt32());
            }
        }
    }

    private async Task<(TestClient Client, Socket Socket)> ConnectAsync(int gateway)
    {
        var node = _cluster.Gateways[gateway];
        var client = await TestClient.ConnectAsync(node.Url);
        _clients.Add(client);
        return (client, node.Io.Sockets.Sockets[client.Id]);
    }
}
