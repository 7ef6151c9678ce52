using OrleansRooms.Grains.Naming;
using OrleansRooms.Grains.Sessions;

namespace OrleansRooms.Grains.Tests;

/// <summary>Where the grains live: a session away from the gateway that connected it, so it outlives that gateway.</summary>
public sealed class PlacementTests(SiloCluster silos) : IClassFixture<SiloCluster>
{
    [Fact]
    public async Task A_session_lives_on_a_silo_other_than_its_gateways()
    {
        var ns = SiloCluster.NewNamespace();
        foreach (var silo in silos.Cluster.Silos)
        {
            for (var i = 0; i < 5; i++)
            {
                var session = silos.GrainsOf(silo.SiloAddress).GetGrain<ISocketGrain>(GrainKeys.Of(ns, SocketIds.New()));
                Assert.NotEqual(silo.SiloAddress, await session.ConnectAsync(silo.SiloAddress));
                Assert.NotEqual(silo.SiloAddress, await silos.SiloOfAsync(session));
            }
        }
    }
}
