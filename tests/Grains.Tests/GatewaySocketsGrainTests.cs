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
        Assert.Empty((await copy.ReleaseAsync()).Changes);
    }
}

/// <summary>A gateway's copy placed on the gateway's own silo while it was alone moves away, state and all, once another silo joins.</summary>
public sealed class GatewaySocketsMigrationTests : IAsyncLifetime
{
    private Orleans.TestingHost.TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new Orleans.TestingHost.TestClusterBuilder(1);
        builder.Options.ConnectionTransport = Orleans.TestingHost.ConnectionTransportType.TcpSocket;
        builder.Options.ConfigureFileLogging = false;
        builder.AddSiloBuilderConfigurator<SiloCluster.RoomsGrainsConfigurator>();
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_copy_that_had_to_stay_with_its_gateway_moves_with_its_sockets_when_another_silo_joins()
    {
        var gateway = _cluster.Primary!.SiloAddress;
        var copy = _cluster.GrainFactory.GetGrain<IGatewaySocketsGrain>(GrainKeys.Of(gateway));
        await copy.ApplyAsync([new SocketChange("/", "s1", SocketChangeKind.Join, ["a"])]);
        var management = _cluster.GrainFactory.GetGrain<IManagementGrain>(0);
        Assert.Equal(gateway, await management.GetActivationAddress(copy));

        await _cluster.StartAdditionalSiloAsync();
        await _cluster.WaitForLivenessToStabilizeAsync();
        var moved = _cluster.WaitForDeactivationAsync(copy);
        await copy.ApplyAsync([new SocketChange("/", "s2", SocketChangeKind.Join, [])]);
        await moved.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["s1", "s2"], (await copy.GetSocketsAsync("/")).Order().ToArray());
        Assert.NotEqual(gateway, await management.GetActivationAddress(copy));
    }
}
