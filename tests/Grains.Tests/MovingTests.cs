using Orleans.TestingHost;
using OrleansRooms.Grains.Naming;
using OrleansRooms.Grains.Rooms;
using OrleansRooms.Grains.Sessions;

namespace OrleansRooms.Grains.Tests;

/// <summary>Sessions and rooms move to other silos with their state instead of being lost.</summary>
public sealed class MovingTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _ns = SiloCluster.NewNamespace();
    private Orleans.TestingHost.TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(1);
        builder.Options.ConnectionTransport = ConnectionTransportType.TcpSocket;
        builder.Options.ConfigureFileLogging = false;
        builder.AddSiloBuilderConfigurator<SiloCluster.RoomsGrainsConfigurator>();
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Sessions_placed_with_their_gateway_while_it_was_alone_move_away_once_another_silo_joins()
    {
        var gateway = _cluster.Primary!.SiloAddress;
        var grains = GrainsOf(gateway);
        var id = SocketIds.New();
        var session = grains.GetGrain<ISocketGrain>(GrainKeys.Of(_ns, id));
        Assert.Equal(gateway, await session.ConnectAsync(gateway));
        await session.JoinAsync(gateway, ["a"], []);

        var other = (await _cluster.StartAdditionalSiloAsync()).SiloAddress;

        await UntilAsync(async () => other.Equals(await SiloOfAsync(session)), "the session on the new silo");
        Assert.Equal([id, "a"], (await session.GetRoomsAsync()).ToArray());
        Assert.Equal([id], (await RoomGrains.Of(grains, _ns, "a").GetMembersAsync(0, 1)).ToArray());
        Assert.Equal(SessionAnswer.Done, await session.JoinAsync(gateway, ["b"], []));
    }

    [Fact]
    public async Task A_silo_that_stops_moves_its_sessions_and_rooms_to_the_others_with_their_state()
    {
        var gateway = _cluster.Primary!.SiloAddress;
        var leaving = await _cluster.StartAdditionalSiloAsync();
        var staying = (await _cluster.StartAdditionalSiloAsync()).SiloAddress;
        await _cluster.WaitForLivenessToStabilizeAsync();
        var grains = GrainsOf(gateway);
        var onLeaving = new List<(string Id, ISocketGrain Session)>();
        while (onLeaving.Count < 5)
        {
            var id = SocketIds.New();
            var session = grains.GetGrain<ISocketGrain>(GrainKeys.Of(_ns, id));
            if (leaving.SiloAddress.Equals(await session.ConnectAsync(gateway)))
            {
                // The first session's silo hosts the room: it is written there first.
                await session.JoinAsync(gateway, ["room"], []);
                onLeaving.Add((id, session));
            }
            else
            {
                await session.DisconnectAsync(gateway, []);
            }
        }

        var room = RoomGrains.Of(grains, _ns, "room");
        Assert.Equal(leaving.SiloAddress, await SiloOfAsync(room));

        await _cluster.StopSiloAsync(leaving);

        Assert.NotEqual(leaving.SiloAddress, await SiloOfAsync(room));
        Assert.Equal(onLeaving.Select(s => s.Id).ToHashSet(), (await room.GetMembersAsync(0, 1)).ToHashSet());
        foreach (var (id, session) in onLeaving)
        {
            Assert.Equal(staying, await SiloOfAsync(session));
            Assert.Equal([id, "room"], (await session.GetRoomsAsync()).ToArray());
        }
    }

    private IGrainFactory GrainsOf(SiloAddress silo) =>
        Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<IGrainFactory>(_cluster.GetSiloServiceProvider(silo));

    private Task<SiloAddress?> SiloOfAsync(IAddressable grain) =>
        GrainsOf(_cluster.Primary!.SiloAddress).GetGrain<IManagementGrain>(0).GetActivationAddress(grain).AsTask();

    private static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, what + " in time");
            await Task.Delay(50);
        }
    }
}
