using Microsoft.Extensions.DependencyInjection;
using OrleansRooms.Grains.Gateways;
using OrleansRooms.Grains.Membership;

namespace OrleansRooms.Grains.Tests;

/// <summary>Where the grains live: a socket with its gateway, a gateway's copy of its sockets away from it.</summary>
public sealed class PlacementTests(SiloCluster silos) : IClassFixture<SiloCluster>
{
    [Fact]
    public async Task A_socket_grain_lives_on_the_silo_of_the_gateway_that_connected_it()
    {
        var ns = SiloCluster.NewNamespace();
        foreach (var silo in silos.Cluster.Silos)
        {
            var grains = silos.Cluster.GetSiloServiceProvider(silo.SiloAddress).GetRequiredService<IGrainFactory>();
            var socket = grains.GetGrain<ISocketGrain>(GrainKeys.Of(ns, "on " + silo.Name));
            await socket.ConnectAsync(silo.SiloAddress);

            Assert.Equal(silo.SiloAddress, await silos.SiloOfAsync(socket));
        }
    }

    [Fact]
    public async Task A_gateways_copy_of_its_sockets_lives_on_another_silo()
    {
        foreach (var silo in silos.Cluster.Silos)
        {
            var copy = silos.Grains.GetGrain<IGatewaySocketsGrain>(GrainKeys.Of(silo.SiloAddress));
            await copy.GetSocketsAsync("/");

            Assert.NotEqual(silo.SiloAddress, await silos.SiloOfAsync(copy));
        }
    }
}
