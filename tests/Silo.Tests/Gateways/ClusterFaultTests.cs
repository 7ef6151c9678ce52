using OrleansRooms.Grains.Rooms;
using OrleansRooms.Grains.Sessions;
using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Gateways;

/// <summary>
/// Three gateways whose grain calls fail where a test says (<see cref="Faults"/>), as when a silo dies or a network
/// drops messages: a change the cluster cannot record fails to its caller and leaves both halves as they were, and a
/// broadcast whose route cannot be read still reaches every member.
/// </summary>
public sealed class ClusterFaultTests() : GatewayClusterTest(new OrleansGatewayCluster(gateways: 3) { FaultInjection = true, RetryTimeout = TimeSpan.FromMilliseconds(300) })
{
    private readonly string _room = "r" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task A_join_the_cluster_cannot_record_fails_to_the_caller_and_changes_nothing()
    {
        var (_, socket) = await ConnectAsync(1);
        var fine = _room + "-fine";
        var adapter = Cluster.Gateways[0].Io.Sockets.Adapter;

        using (Faults.Fail("ApplyAsync", _room + "-broken", static () => new SiloUnavailableException("injected")))
        {
            await Assert.ThrowsAsync<RoomMembershipException>(async () => await socket.JoinAsync([fine, _room + "-broken"]));
        }

        Assert.Equal([socket.Id], socket.Rooms);
        Assert.Equal([socket.Id], await adapter.GetSocketRoomsAsync(socket.Id));
        Assert.Empty(await adapter.GetRoomMembersAsync(fine));
        // The broken room could not take the undo either (it may have rebuilt itself from the join's intent): the
        // session writes it again until it can.
        await Eventually.HoldsAsync(async () => (await adapter.GetRoomMembersAsync(_room + "-broken")).Count == 0, "the broken room repaired", TimeSpan.FromSeconds(30));

        // Once the cluster can record it, the same join goes through.
        await socket.JoinAsync([fine, _room + "-broken"]);
        Assert.Equal(new HashSet<string> { socket.Id, fine, _room + "-broken" }, socket.Rooms.ToHashSet());
        Assert.Equal([socket.Id], await adapter.GetRoomMembersAsync(_room + "-broken"));
    }

    [Fact]
    public async Task A_leave_the_cluster_cannot_record_fails_to_the_caller_and_the_socket_stays_in_the_room()
    {
        var (member, socket) = await ConnectAsync(2);
        await socket.JoinAsync(_room);

        using (Faults.Fail("ApplyAsync", _room, static () => new SiloUnavailableException("injected")))
        {
            await Assert.ThrowsAsync<RoomMembershipException>(async () => await socket.LeaveAsync(_room));
        }

        var adapter = Cluster.Gateways[0].Io.Sockets.Adapter;
        Assert.Contains(_room, socket.Rooms);
        Assert.Contains(_room, await adapter.GetSocketRoomsAsync(socket.Id));
        Assert.Equal([socket.Id], await adapter.GetRoomMembersAsync(_room));
        await Cluster.Gateways[0].Io.To(_room).EmitAsync("still a member");
        await member.ExpectEventAsync("still a member");
    }

    [Fact]
    public async Task A_broadcast_whose_route_cannot_be_read_goes_to_every_gateway_and_reaches_the_members()
    {
        var (member, socket) = await ConnectAsync(2);
        var (other, _) = await ConnectAsync(1);
        await socket.JoinAsync(_room);

        using (Faults.Fail("SubscribeAsync", _room, static () => new SiloUnavailableException("injected")))
        {
            await Cluster.Gateways[0].Io.To(_room).EmitAsync("through every gateway");
        }

        await Cluster.Gateways[0].Io.EmitAsync("marker");
        await member.ExpectEventAsync("through every gateway");
        await other.ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task Broadcasts_to_rooms_make_no_grain_call_once_their_routes_are_known()
    {
        var (member, socket) = await ConnectAsync(2);
        await socket.JoinAsync(_room);
        var io = Cluster.Gateways[0].Io;
        await io.To(_room).EmitAsync("n", 0);

        using (Faults.Count(_room))
        {
            for (var i = 1; i <= 20; i++)
            {
                await io.To(_room).EmitAsync("n", i);
            }

            Assert.Equal(0, Faults.CallsOf("SubscribeAsync", _room));
            Assert.Equal(0, Faults.CallsOf("CountAsync", _room));
        }

        for (var i = 0; i <= 20; i++)
        {
            Assert.Equal(i, (await member.ExpectEventAsync("n"))[0].GetInt32());
        }
    }

    [Fact]
    public async Task A_message_to_a_socket_id_goes_to_its_gateway_through_its_session_and_activates_no_room_grain()
    {
        var (target, socket) = await ConnectAsync(2);
        var io = Cluster.Gateways[0].Io;

        using (Faults.Count(socket.Id))
        {
            await io.To(socket.Id).EmitAsync("direct", 1);
            await io.To(socket.Id).EmitAsync("direct", 2);

            // One lookup of the session, then the route is known; never a room grain of that name.
            Assert.Equal(1, Faults.CallsOf("SubscribeAsync", socket.Id));
        }

        Assert.Equal(1, (await target.ExpectEventAsync("direct"))[0].GetInt32());
        Assert.Equal(2, (await target.ExpectEventAsync("direct"))[0].GetInt32());
        Assert.DoesNotContain(socket.Id, await ActiveRoomGrainKeysAsync());
    }

    [Fact]
    public async Task An_Orleans_client_of_the_cluster_cannot_call_its_plumbing()
    {
        var (_, socket) = await ConnectAsync(1);
        var session = Cluster.Orleans.Client.GetGrain<ISocketGrain>(Grains.Naming.GrainKeys.Of("/", socket.Id));

        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => session.LeaveAsync(Cluster.SiloOf(Cluster.Gateways[1]), [socket.Id], []));
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => session.DisconnectAsync(Cluster.SiloOf(Cluster.Gateways[1]), []));
        Assert.True(socket.Connected);
    }

    private async Task<List<string>> ActiveRoomGrainKeysAsync()
    {
        var management = Cluster.Orleans.Client.GetGrain<IManagementGrain>(0);
        var keys = new List<string>();
        foreach (var silo in Cluster.Orleans.GetActiveSilos())
        {
            var details = await management.GetDetailedGrainStatistics([IRoomGrain.GrainTypeName], [silo.SiloAddress]);
            keys.AddRange(details.Select(d => d.GrainId.Key.ToString()!));
        }

        return keys;
    }

    private async Task<(TestClient Client, Socket Socket)> ConnectAsync(int gateway)
    {
        var node = Cluster.Gateways[gateway];
        var client = await TestClient.ConnectAsync(node.Url);
        Clients.Add(client);
        return (client, node.Io.Sockets.Sockets[client.Id]);
    }
}
