using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Gateways;

/// <summary>
/// Three gateways on an Orleans test cluster, through real clients: a gateway killed, stopped or added, and grains lost
/// with a silo. The first gateway holds the test cluster's membership table, so the others are the ones that go.
/// </summary>
public sealed class GatewayFailoverTests() : GatewayClusterTest(new OrleansGatewayCluster(gateways: 3))
{
    private static readonly TimeSpan FailoverWait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_killed_gateways_sockets_leave_their_rooms_cluster_wide_and_the_room_events_are_raised_once()
    {
        var (staying, stayingSocket) = await ConnectAsync(0);
        var (_, doomedSocket) = await ConnectAsync(2);
        await stayingSocket.JoinAsync("room");
        await doomedSocket.JoinAsync(["room", "other"]);
        var events = new ConcurrentQueue<string>();
        var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var expected = 5;
        foreach (var gateway in Cluster.Gateways.Take(2))
        {
            var adapter = gateway.Io.Sockets.Adapter;
            adapter.LeaveRoom += (room, id) => Record($"leave-room {room} {id}");
            adapter.DeleteRoom += room => Record($"delete-room {room}");
        }

        await Cluster.KillGatewayAsync(Cluster.Gateways[2]);
        await released.Task.WaitAsync(FailoverWait);

        var survivor = Cluster.Gateways[0].Io.Sockets.Adapter;
        // A room whose grain died with the gateway's silo is complete once the sessions that died with it are restored by
        // their gateways (the cluster converges within seconds of a fault, not at the instant of the last event).
        await Eventually.HoldsAsync(async () => (await survivor.GetRoomMembersAsync("room")).SequenceEqual([stayingSocket.Id]), "the room with its member only", FailoverWait);
        Assert.Empty(await survivor.GetRoomMembersAsync("other"));
        Assert.Empty(await survivor.GetSocketRoomsAsync(doomedSocket.Id));
        Assert.DoesNotContain(doomedSocket.Id, await survivor.GetSocketIdsAsync());
        Assert.Equal(
            new HashSet<string>
            {
                $"leave-room {doomedSocket.Id} {doomedSocket.Id}", $"delete-room {doomedSocket.Id}",
                $"leave-room room {doomedSocket.Id}",
                $"leave-room other {doomedSocket.Id}", "delete-room other",
            },
            events.ToHashSet());
        Assert.Equal(expected, events.Count);
        await Cluster.Gateways[1].Io.To("room").EmitAsync("still here");
        await staying.ExpectEventAsync("still here");

        void Record(string change)
        {
            events.Enqueue(change);
            if (events.Count >= expected)
            {
                released.TrySetResult();
            }
        }
    }

    [Fact]
    public async Task A_gateway_that_stops_cleanly_removes_its_sockets_at_once()
    {
        var (_, stayingSocket) = await ConnectAsync(0);
        var (_, leavingSocket) = await ConnectAsync(2);
        await stayingSocket.JoinAsync("room");
        await leavingSocket.JoinAsync("room");

        await Cluster.StopGatewayAsync(Cluster.Gateways[2]);

        var adapter = Cluster.Gateways[0].Io.Sockets.Adapter;
        Assert.Equal([stayingSocket.Id], await adapter.GetRoomMembersAsync("room"));
        Assert.Equal([stayingSocket.Id], await adapter.GetSocketIdsAsync());
    }

    [Fact]
    public async Task A_gateway_added_later_takes_part_in_broadcasts()
    {
        var (first, firstSocket) = await ConnectAsync(0);
        await firstSocket.JoinAsync("room");
        var added = await Cluster.AddGatewayAsync();
        var (late, lateSocket) = await ConnectAsync(Cluster.Gateways.Count - 1);
        await lateSocket.JoinAsync("room");

        await Cluster.Gateways[0].Io.To("room").EmitAsync("hello");
        await added.Io.EmitAsync("from the new one");

        await first.ExpectEventAsync("hello");
        await late.ExpectEventAsync("hello");
        await first.ExpectEventAsync("from the new one");
        await late.ExpectEventAsync("from the new one");
    }

    [Fact]
    public async Task A_gateway_broadcasts_to_the_sockets_of_the_others_as_soon_as_it_takes_clients()
    {
        var (member, memberSocket) = await ConnectAsync(0);
        await memberSocket.JoinAsync("room");

        // Active in its own view, so a load balancer's health check passes: its clients may emit at once, before it has
        // the other silos' grain manifests.
        var added = await Cluster.AddGatewayAsync(untilKnown: false);
        await added.Io.To("room").EmitAsync("to the room");
        await added.Io.EmitAsync("to everyone");

        await member.ExpectEventAsync("to the room");
        await member.ExpectEventAsync("to everyone");
    }

    [Fact]
    public async Task Sessions_and_room_grains_lost_with_a_silo_come_back_complete()
    {
        var doomed = Cluster.Gateways[2];
        var doomedSilo = Cluster.SiloOf(doomed);
        // A socket whose session lives on the doomed gateway's silo writes the room first: its grain lives there too.
        var (a, aSocket) = await ConnectWithSessionOnAsync(doomedSilo);
        var (b, bSocket) = await ConnectAsync(1);
        await aSocket.JoinAsync("room");
        await bSocket.JoinAsync("room");
        var grains = Cluster.Gateways[0].Services.GetRequiredService<IGrainFactory>();
        Assert.Equal(doomedSilo, await grains.GetGrain<IManagementGrain>(0).GetActivationAddress(aSocket.Session));

        await Cluster.KillGatewayAsync(doomed);
        await Eventually.HoldsAsync(() => !doomedSilo.Equals(aSocket.SessionSilo), "a's session restored elsewhere", FailoverWait);

        // The room's grain died too: a restore that could not write it yet (the cluster still changing) leaves it to the
        // session's repair, so the room converges rather than being whole at the instant the session is.
        var adapter = Cluster.Gateways[0].Io.Sockets.Adapter;
        await Eventually.HoldsAsync(async () => (await adapter.GetRoomMembersAsync("room")).ToHashSet().SetEquals([aSocket.Id, bSocket.Id]), "the room with both members", FailoverWait);
        Assert.Equal(new HashSet<string> { aSocket.Id, "room" }, (await adapter.GetSocketRoomsAsync(aSocket.Id)).ToHashSet());
        await Cluster.Gateways[1].Io.To("room").EmitAsync("after the loss");
        await a.ExpectEventAsync("after the loss");
        await b.ExpectEventAsync("after the loss");
    }

    [Fact]
    public async Task A_session_lost_with_its_silo_is_restored_at_once_though_its_socket_connected_after_an_earlier_loss()
    {
        // A first loss: the gateways look for sessions to restore, before the socket below exists.
        await Cluster.KillGatewayAsync(Cluster.Gateways[2]);
        var doomed = await Cluster.AddGatewayAsync();
        var doomedSilo = Cluster.SiloOf(doomed);
        var (_, socket) = await ConnectWithSessionOnAsync(doomedSilo);
        await socket.JoinAsync("room");

        await Cluster.KillGatewayAsync(doomed);

        // Restored with no change of the socket's to prompt it.
        await Eventually.HoldsAsync(() => !doomedSilo.Equals(socket.SessionSilo), "the session restored elsewhere", FailoverWait);
        var adapter = Cluster.Gateways[0].Io.Sockets.Adapter;
        Assert.Equal(new HashSet<string> { socket.Id, "room" }, (await adapter.GetSocketRoomsAsync(socket.Id)).ToHashSet());
    }

    [Fact]
    public async Task A_session_placed_on_a_silo_already_declared_dead_is_restored_at_once()
    {
        var doomedSilo = Cluster.SiloOf(Cluster.Gateways[2]);
        await Cluster.KillGatewayAsync(Cluster.Gateways[2]);
        var membership = Cluster.Gateways[0].Services.GetRequiredService<IClusterMembershipService>();
        await Eventually.HoldsAsync(() => membership.CurrentSnapshot.GetSiloStatus(doomedSilo) == SiloStatus.Dead, "the doomed gateway declared dead", FailoverWait);
        var (_, socket) = await ConnectAsync(0);
        await socket.JoinAsync("room");

        // As when the call that placed the session was answered by a silo dying at that moment, after this gateway had
        // looked for the sessions that silo held.
        Cluster.Gateways[0].Services.GetRequiredService<OrleansRooms.Cluster.GatewayCluster>().Sessions.Placed(socket, doomedSilo);

        await Eventually.HoldsAsync(() => !doomedSilo.Equals(socket.SessionSilo), "the session restored elsewhere", FailoverWait);
        var adapter = Cluster.Gateways[1].Io.Sockets.Adapter;
        Assert.Equal(new HashSet<string> { socket.Id, "room" }, (await adapter.GetSocketRoomsAsync(socket.Id)).ToHashSet());
    }

    [Fact]
    public async Task A_join_is_not_held_up_by_a_dead_gateway_that_used_to_broadcast_to_its_room()
    {
        // The room grain lives with the first member's session, on a silo that stays.
        var (_, first) = await ConnectWithSessionOnAsync(Cluster.SiloOf(Cluster.Gateways[1]));
        await first.JoinAsync("room");
        // The doomed gateway broadcasts to the room, so its silo follows the room's route; it has no member there.
        await Cluster.Gateways[2].Io.To("room").EmitAsync("hello");
        var doomedSilo = Cluster.SiloOf(Cluster.Gateways[2]);
        await Cluster.KillGatewayAsync(Cluster.Gateways[2]);
        var membership = Cluster.Gateways[1].Services.GetRequiredService<IClusterMembershipService>();
        await Eventually.HoldsAsync(() => membership.CurrentSnapshot.GetSiloStatus(doomedSilo) == SiloStatus.Dead, "the doomed gateway declared dead", FailoverWait);
        var (_, second) = await ConnectAsync(1);

        // A new gateway in the room's route: the join completes once the followers have it.
        var join = Stopwatch.StartNew();
        await second.JoinAsync("room");

        Assert.True(join.Elapsed < TimeSpan.FromSeconds(5), $"the join took {join.Elapsed.TotalSeconds:F1}s");
    }

    [Fact]
    public async Task ServerSideEmit_reaches_the_other_gateways_and_collects_their_acks()
    {
        foreach (var gateway in Cluster.Gateways)
        {
            var name = Cluster.SiloOf(gateway).ToString();
            gateway.Io.Sockets.OnServerSideEmit("hello", e => e.Ack(name + ":" + e.Get<string>(0)));
        }

        var responses = await Cluster.Gateways[0].Io.Sockets.ServerSideEmitWithAckAsync("hello", "world");

        var expected = Cluster.Gateways.Skip(1).Select(g => Cluster.SiloOf(g) + ":world").Order();
        Assert.Equal(expected, responses.Select(r => r.Get<string>(0)!).Order());
    }

    /// <summary>
    /// Without a timeout the broadcast still ends: if the dying gateway reported its socket gone first, with the answers
    /// of the sockets that answered (as Socket.IO does for a socket that disconnects); if it died first, with
    /// <see cref="BroadcastAckTimeoutException"/> carrying those answers, since what its sockets would have said is unknown.
    /// </summary>
    [Fact]
    public async Task A_broadcast_ack_without_timeout_ends_with_the_answers_it_got_when_a_gateway_it_reached_dies()
    {
        var (answering, answeringSocket) = await ConnectAsync(0);
        var (_, silentSocket) = await ConnectAsync(2);
        answering.AutoAcks["question"] = "yes";
        await answeringSocket.JoinAsync("room");
        await silentSocket.JoinAsync("room");
        var question = Cluster.Gateways[0].Io.To("room").EmitWithAckAsync("question").AsTask();

        // The client on the doomed gateway never answers; its gateway dies with the question pending.
        await Cluster.KillGatewayAsync(Cluster.Gateways[2]);

        IReadOnlyList<SocketArguments> answers;
        try
        {
            answers = await question.WaitAsync(FailoverWait);
        }
        catch (BroadcastAckTimeoutException incomplete)
        {
            answers = incomplete.Responses;
        }

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

        var io = Cluster.Gateways[1].Io;
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
        var node = Cluster.Gateways[gateway];
        var client = await TestClient.ConnectAsync(node.Url);
        Clients.Add(client);
        return (client, node.Io.Sockets.Sockets[client.Id]);
    }

    // Connects to the first two gateways until a socket's session is placed on silo (sessions are spread by their ids).
    private async Task<(TestClient Client, Socket Socket)> ConnectWithSessionOnAsync(SiloAddress silo)
    {
        for (var i = 0; ; i++)
        {
            var (client, socket) = await ConnectAsync(i % 2);
            if (silo.Equals(socket.SessionSilo))
            {
                return (client, socket);
            }
        }
    }

}
