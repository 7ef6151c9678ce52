using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.TestingHost;
using OrleansRooms.Grains.Hosting;

namespace OrleansRooms.Grains.Tests;

/// <summary>
/// Three silos of an Orleans test cluster over TCP loopback with the OrleansRooms grains and no gateway: the grains on
/// their own. Shared by the tests of a class; each test uses namespaces of its own.
/// </summary>
public sealed class SiloCluster : IAsyncLifetime
{
    public Orleans.TestingHost.TestCluster Cluster { get; private set; } = null!;

    /// <summary>
    /// The first silo's grain factory: calls as a silo's own code makes them (an Orleans client of the cluster is refused
    /// the OrleansRooms grains, see <c>ClusterPlumbingFilter</c>).
    /// </summary>
    public IGrainFactory Grains => GrainsOf(Cluster.Primary!.SiloAddress);

    /// <summary>The grain factory of silo <paramref name="silo"/>.</summary>
    public IGrainFactory GrainsOf(SiloAddress silo) => Cluster.GetSiloServiceProvider(silo).GetRequiredService<IGrainFactory>();

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(3);
        builder.Options.ConnectionTransport = ConnectionTransportType.TcpSocket;
        builder.Options.ConfigureFileLogging = false;
        builder.AddSiloBuilderConfigurator<RoomsGrainsConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>A namespace name no other test uses.</summary>
    public static string NewNamespace() => "/t" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Where the activation of <paramref name="grain"/> lives.</summary>
    public async Task<SiloAddress?> SiloOfAsync(IAddressable grain) =>
        await Grains.GetGrain<IManagementGrain>(0).GetActivationAddress(grain);

    internal sealed class RoomsGrainsConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder.Services.AddRoomsGrains();
    }
}
