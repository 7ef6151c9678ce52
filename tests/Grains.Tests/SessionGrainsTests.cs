using System.Collections.Immutable;
using Microsoft.Extensions.DependencyInjection;
using OrleansRooms.Grains.Naming;
using OrleansRooms.Grains.Rooms;
using OrleansRooms.Grains.Routing;
using OrleansRooms.Grains.Sessions;

namespace OrleansRooms.Grains.Tests;

/// <summary>The two halves of the relation: a session owns its socket's rooms and writes each room's half.</summary>
public sealed class SessionGrainsTests(SiloCluster silos) : IClassFixture<SiloCluster>
{
    private readonly string _ns = SiloCluster.NewNamespace();

    private SiloAddress Gateway => silos.Cluster.Primary!.SiloAddress;

    private SiloAddress OtherGateway => silos.Cluster.SecondarySilos[0].SiloAddress;

    [Fact]
    public async Task Joining_writes_the_sessions_half_and_each_rooms_half()
    {
        var (id, session) = await ConnectAsync(Gateway);

        Assert.Equal(SessionAnswer.Done, await session.JoinAsync(Gateway, ["a", "b"], []));

        Assert.Equal([id, "a", "b"], (await session.GetRoomsAsync()).ToArray());
        Assert.Equal([id], (await Room("a").GetMembersAsync(0, 1)).ToArray());
        Assert.Equal(1, await Room("b").CountAsync());
        Assert.Equal([Gateway], (await Room("b").SubscribeAsync(Gateway)).Gateways.ToArray());
    }

    [Fact]
    public async Task Leaving_removes_both_halves()
    {
        var (id, session) = await ConnectAsync(Gateway);
        await session.JoinAsync(Gateway, ["a", "b"], []);

        await session.LeaveAsync(Gateway, ["a", "not joined"], []);

        Assert.Equal([id, "b"], (await session.GetRoomsAsync()).ToArray());
        Assert.Equal(0, await Room("a").CountAsync());
        Assert.Empty((await Room("a").SubscribeAsync(Gateway)).Gateways);
    }

    [Fact]
    public async Task The_own_id_room_is_the_session_itself()
    {
        var (id, session) = await ConnectAsync(Gateway);
        var (other, otherSession) = await ConnectAsync(OtherGateway);

        await session.JoinAsync(Gateway, [id], []);
        await otherSession.JoinAsync(OtherGateway, [id], []);

        Assert.Equal([id], (await session.GetRoomsAsync()).ToArray());
        Assert.Equal(new HashSet<string> { id, other }, (await RoomGrains.Of(silos.Grains, _ns, id).GetMembersAsync(0, 1)).ToHashSet());
        Assert.Equal(new HashSet<SiloAddress> { Gateway, OtherGateway }, (await session.SubscribeAsync(Gateway)).Gateways.ToHashSet());
    }

    [Fact]
    public async Task A_rooms_route_names_each_gateway_once_while_it_hosts_a_member()
    {
        var (_, first) = await ConnectAsync(Gateway);
        var (_, second) = await ConnectAsync(Gateway);
        var (_, remote) = await ConnectAsync(OtherGateway);
        await first.JoinAsync(Gateway, ["room"], []);
        await second.JoinAsync(Gateway, ["room"], []);
        await remote.JoinAsync(OtherGateway, ["room"], []);
        Assert.Equal(new HashSet<SiloAddress> { Gateway, OtherGateway }, (await Room("room").SubscribeAsync(Gateway)).Gateways.ToHashSet());

        await first.LeaveAsync(Gateway, ["room"], []);
        Assert.Equal(2, (await Room("room").SubscribeAsync(Gateway)).Gateways.Length);
        await second.LeaveAsync(Gateway, ["room"], []);
        Assert.Equal([OtherGateway], (await Room("room").SubscribeAsync(Gateway)).Gateways.ToArray());
    }

    [Fact]
    public async Task A_silo_following_a_room_learns_a_new_gateway_before_the_join_completes()
    {
        var follower = silos.Cluster.SecondarySilos[1].SiloAddress;
        var cache = silos.Cluster.GetSiloServiceProvider(follower).GetRequiredService<RouteCaches>().For(_ns);
        var (_, session) = await ConnectAsync(Gateway);
        await session.JoinAsync(Gateway, ["room"], []);
        Assert.Equal([Gateway], (await cache.LoadAsync("room")).Gateways.ToArray());

        var (_, remote) = await ConnectAsync(OtherGateway);
        await remote.JoinAsync(OtherGateway, ["room"], []);

        var targets = new List<SiloAddress>();
        Assert.True(cache.TryResolve(["room"], targets));
        Assert.Equal(new HashSet<SiloAddress> { Gateway, OtherGateway }, targets.ToHashSet());
    }

    [Fact]
    public async Task Disconnecting_leaves_every_room()
    {
        var (_, session) = await ConnectAsync(Gateway);
        await session.JoinAsync(Gateway, ["a", "b"], []);

        await session.DisconnectAsync(Gateway, []);

        Assert.Empty(await session.GetRoomsAsync());
        Assert.Equal(0, await Room("a").CountAsync());
        Assert.Equal(0, await Room("b").CountAsync());
    }

    [Fact]
    public async Task A_session_that_is_not_connected_says_so_and_changes_nothing()
    {
        var session = silos.Grains.GetGrain<ISocketGrain>(GrainKeys.Of(_ns, SocketIds.New()));

        Assert.Empty(await session.GetRoomsAsync());
        Assert.Equal(SessionAnswer.NotConnected, await session.JoinAsync(Gateway, ["a"], []));
        Assert.Equal(0, await Room("a").CountAsync());
    }

    [Fact]
    public async Task A_session_connected_through_another_gateway_refuses_changes()
    {
        var (_, session) = await ConnectAsync(Gateway);

        Assert.Equal(SessionAnswer.OtherGateway, await session.JoinAsync(OtherGateway, ["a"], []));
        Assert.Equal(0, await Room("a").CountAsync());
    }

    [Fact]
    public async Task A_restored_session_takes_the_gateways_rooms_and_writes_them_again()
    {
        var (id, session) = await ConnectAsync(Gateway);
        await session.JoinAsync(Gateway, ["kept"], []);
        await silos.Cluster.DeactivateAsync(session);
        Assert.Empty(await session.GetRoomsAsync());

        await session.RestoreAsync(Gateway, [id, "kept", "b"], ["dropped"]);

        Assert.Equal(new HashSet<string> { id, "kept", "b" }, (await session.GetRoomsAsync()).ToHashSet());
        Assert.Equal([id], (await Room("b").GetMembersAsync(0, 1)).ToArray());
        Assert.Equal(0, await Room("dropped").CountAsync());
    }

    [Fact]
    public async Task A_room_grain_lost_comes_back_complete_from_the_sessions()
    {
        var members = new HashSet<string>();
        foreach (var gateway in new[] { Gateway, OtherGateway, Gateway })
        {
            var (id, session) = await ConnectAsync(gateway);
            await session.JoinAsync(gateway, ["room"], []);
            members.Add(id);
        }

        await silos.Cluster.DeactivateAsync(Room("room"));

        Assert.Equal(members, (await Room("room").GetMembersAsync(0, 1)).ToHashSet());
        Assert.Equal(new HashSet<SiloAddress> { Gateway, OtherGateway }, (await Room("room").SubscribeAsync(Gateway)).Gateways.ToHashSet());
    }

    [Fact]
    public async Task A_large_room_is_read_in_parts_that_hold_each_member_once()
    {
        var sessions = new List<(string Id, ISocketGrain Session)>();
        for (var i = 0; i < 200; i++)
        {
            sessions.Add(await ConnectAsync(i % 2 == 0 ? Gateway : OtherGateway));
        }

        await Task.WhenAll(sessions.Select((s, i) => s.Session.JoinAsync(i % 2 == 0 ? Gateway : OtherGateway, ["big"], [])));

        var read = new List<string>();
        for (var part = 0; part < 7; part++)
        {
            read.AddRange(await Room("big").GetMembersAsync(part, 7));
        }

        Assert.Equal(200, read.Count);
        Assert.Equal(sessions.Select(s => s.Id).ToHashSet(), read.ToHashSet());
    }

    [Fact]
    public async Task Grains_that_are_only_asked_about_are_collected_and_grains_with_members_are_not()
    {
        // Rooms and socket ids are any names a client or the application gives: asking must not pin memory.
        var asked = Room("nobody joined");
        var unknown = silos.Grains.GetGrain<ISocketGrain>(GrainKeys.Of(_ns, SocketIds.New()));
        var (_, session) = await ConnectAsync(Gateway);
        await session.JoinAsync(Gateway, ["kept"], []);
        Assert.Equal(0, await asked.CountAsync());
        Assert.Empty(await unknown.GetRoomsAsync());

        await silos.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        Assert.False(silos.Cluster.TryGetGrainContext(asked.GetGrainId(), out _), "an empty room stayed active");
        Assert.False(silos.Cluster.TryGetGrainContext(unknown.GetGrainId(), out _), "an unknown socket stayed active");
        Assert.True(silos.Cluster.TryGetGrainContext(Room("kept").GetGrainId(), out _), "a room with a member was collected");
        Assert.True(silos.Cluster.TryGetGrainContext(session.GetGrainId(), out _), "a connected socket was collected");
        Assert.Equal(1, await Room("kept").CountAsync());
    }

    private async Task<(string Id, ISocketGrain Session)> ConnectAsync(SiloAddress gateway)
    {
        var id = SocketIds.New();
        var session = silos.GrainsOf(gateway).GetGrain<ISocketGrain>(GrainKeys.Of(_ns, id));
        await session.ConnectAsync(gateway);
        return (id, session);
    }

    private IRoomMembers Room(string room) => RoomGrains.Of(silos.Grains, _ns, room);
}
