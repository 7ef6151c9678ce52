using OrleansRooms.Grains.Gateways;
using OrleansRooms.Grains.Membership;

namespace OrleansRooms.Grains.Tests;

/// <summary>A gateway's copy of its sockets, and its release when the gateway died.</summary>
public sealed class GatewaySocketsGrainTests(SiloCluster silos) : IClassFixture<SiloCluster>
{
    [Fact]
    public async Task A_release_takes_the_gateways_members_out_of_every_room_and_reports_each_change_once()
    {
        var ns = SiloCluster.NewNamespace();
        // A gateway that is no silo of this cluster: its sockets are released as a dead gateway's would be.
        var gone = SiloAddress.New(System.Net.IPAddress.Loopback, 1, 1);
        var socket = silos.Grains.GetGrain<ISocketGrain>(GrainKeys.Of(ns, "s1"));
        await socket.ConnectAsync(gone);
        await socket.JoinAsync(["a", "b"]);
        var copy = silos.Grains.GetGrain<IGatewaySocketsGrain>(GrainKeys.Of(gone));

        var release = await copy.ReleaseAsync();

        Assert.Equal(
            [
                new RoomChange(ns, "s1", "s1"), new RoomChange(ns, "s1", null),
                new RoomChange(ns, "a", "s1"), new RoomChange(ns, "a", null),
                new RoomChange(ns, "b", "s1"), new RoomChange(ns, "b", null),
            ],
            release.Changes.ToArray());
        Assert.Empty(await silos.Grains.GetGrain<IRoomGrain>(GrainKeys.Of(ns, "a")).GetMembersAsync());
        Assert.Empty(await silos.Grains.GetGrain<INamespaceGrain>(ns).GetRoomsAsync());
        Assert.Empty((await copy.ReleaseAsync()).Changes);
    }
}
