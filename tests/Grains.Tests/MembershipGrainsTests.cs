using OrleansRooms.Grains.Gateways;
using OrleansRooms.Grains.Membership;

namespace OrleansRooms.Grains.Tests;

/// <summary>The two halves of the relation: the socket grain writes its own and each room grain's, and the gateway's copy.</summary>
public sealed class MembershipGrainsTests(SiloCluster silos) : IClassFixture<SiloCluster>
{
    private readonly string _ns = SiloCluster.NewNamespace();

    private SiloAddress Gateway => silos.Cluster.Primary!.SiloAddress;

    private SiloAddress OtherGateway => silos.Cluster.SecondarySilos[0].SiloAddress;

    [Fact]
    public async Task Joining_writes_the_socket_half_the_room_half_and_the_gateways_copy()
    {
        var socket = await ConnectAsync("s1", Gateway);

        await socket.JoinAsync(["a", "b"]);

        Assert.Equal(["s1", "a", "b"], (await socket.GetRoomsAsync()).ToArray());
        Assert.Equal(["s1"], (await Room("a").GetMembersAsync()).ToArray());
        Assert.Equal([Gateway], (await Room("b").GetGatewaysAsync()).ToArray());
        Assert.Equal(new HashSet<string> { "s1", "a", "b" }, (await Copy(Gateway).GetRoomNamesAsync(_ns)).ToHashSet());
        Assert.Equal(["s1"], (await Copy(Gateway).GetSocketsAsync(_ns)).ToArray());
    }

    [Fact]
    public async Task Leaving_removes_both_halves_and_the_gateways_copy_forgets_the_room()
    {
        var socket = await ConnectAsync("s1", Gateway);
        await socket.JoinAsync(["a", "b"]);

        await socket.LeaveAsync(["a", "not joined"]);

        Assert.Equal(["s1", "b"], (await socket.GetRoomsAsync()).ToArray());
        Assert.Empty(await Room("a").GetMembersAsync());
        Assert.Empty(await Room("a").GetGatewaysAsync());
        Assert.Equal(new HashSet<string> { "s1", "b" }, (await Copy(Gateway).GetRoomNamesAsync(_ns)).ToHashSet());
    }

    [Fact]
    public async Task The_own_id_room_is_the_socket_itself_not_a_member_entry()
    {
        var socket = await ConnectAsync("s1", Gateway);

        await socket.JoinAsync(["s1"]);

        Assert.Equal(["s1"], (await socket.GetRoomsAsync()).ToArray());
        Assert.Empty(await Room("s1").GetMembersAsync());
        Assert.Equal(["s1"], (await Copy(Gateway).GetRoomNamesAsync(_ns)).ToArray());
    }

    [Fact]
    public async Task A_room_lists_each_gateway_once_while_it_hosts_at_least_one_member()
    {
        var first = await ConnectAsync("s1", Gateway);
        var second = await ConnectAsync("s2", Gateway);
        var remote = await ConnectAsync("s3", OtherGateway);
        await first.JoinAsync(["room"]);
        await second.JoinAsync(["room"]);
        await remote.JoinAsync(["room"]);
        Assert.Equal(new HashSet<SiloAddress> { Gateway, OtherGateway }, (await Room("room").GetGatewaysAsync()).ToHashSet());

        await first.LeaveAsync(["room"]);
        Assert.Equal(new HashSet<SiloAddress> { Gateway, OtherGateway }, (await Room("room").GetGatewaysAsync()).ToHashSet());
        await second.LeaveAsync(["room"]);
        Assert.Equal([OtherGateway], (await Room("room").GetGatewaysAsync()).ToArray());
    }

    [Fact]
    public async Task Disconnecting_leaves_every_room_and_forgets_the_socket()
    {
        var socket = await ConnectAsync("s1", Gateway);
        await socket.JoinAsync(["a", "b"]);

        await socket.DisconnectAsync();

        Assert.Empty(await socket.GetRoomsAsync());
        Assert.Empty(await Room("a").GetMembersAsync());
        Assert.Empty(await Copy(Gateway).GetRoomNamesAsync(_ns));
        Assert.Empty(await Copy(Gateway).GetSocketsAsync(_ns));
    }

    [Fact]
    public async Task Republishing_rebuilds_a_room_grain_and_the_gateways_copy_that_were_lost()
    {
        var socket = await ConnectAsync("s1", Gateway);
        await socket.JoinAsync(["a"]);
        await silos.Cluster.DeactivateAsync(Room("a"));
        await silos.Cluster.DeactivateAsync(Copy(Gateway));
        Assert.Empty(await Room("a").GetMembersAsync());

        await socket.RepublishAsync();

        Assert.Equal(["s1"], (await Room("a").GetMembersAsync()).ToArray());
        Assert.Equal(new HashSet<string> { "s1", "a" }, (await Copy(Gateway).GetRoomNamesAsync(_ns)).ToHashSet());
    }

    [Fact]
    public async Task A_socket_that_is_not_connected_has_no_rooms_and_cannot_join()
    {
        var socket = silos.Grains.GetGrain<ISocketGrain>(GrainKeys.Of(_ns, "never connected"));

        Assert.Empty(await socket.GetRoomsAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() => socket.JoinAsync(["a"]));
    }

    [Fact]
    public async Task Grains_that_are_only_asked_about_are_collected_and_grains_with_members_are_not()
    {
        // Rooms and socket ids are any names a client or the application gives: asking must not pin memory.
        var asked = Room("nobody joined");
        var unknown = silos.Grains.GetGrain<ISocketGrain>(GrainKeys.Of(_ns, "no such socket"));
        var socket = await ConnectAsync("s1", Gateway);
        await socket.JoinAsync(["kept"]);
        Assert.Empty(await asked.GetGatewaysAsync());
        Assert.Empty(await unknown.GetRoomsAsync());

        await silos.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        Assert.False(silos.Cluster.TryGetGrainContext(asked.GetGrainId(), out _), "an empty room stayed active");
        Assert.False(silos.Cluster.TryGetGrainContext(unknown.GetGrainId(), out _), "an unknown socket stayed active");
        Assert.True(silos.Cluster.TryGetGrainContext(Room("kept").GetGrainId(), out _), "a room with a member was collected");
        Assert.True(silos.Cluster.TryGetGrainContext(socket.GetGrainId(), out _), "a connected socket was collected");
        Assert.Equal(["s1"], (await Room("kept").GetMembersAsync()).ToArray());
    }

    private async Task<ISocketGrain> ConnectAsync(string id, SiloAddress gateway)
    {
        var socket = silos.Grains.GetGrain<ISocketGrain>(GrainKeys.Of(_ns, id));
        await socket.ConnectAsync(gateway);
        return socket;
    }

    private IRoomGrain Room(string room) => silos.Grains.GetGrain<IRoomGrain>(GrainKeys.Of(_ns, room));

    private IGatewaySocketsGrain Copy(SiloAddress gateway) => silos.Grains.GetGrain<IGatewaySocketsGrain>(GrainKeys.Of(gateway));
}
