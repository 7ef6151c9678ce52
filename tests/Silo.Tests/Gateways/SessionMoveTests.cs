using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Gateways;

/// <summary>
/// A gateway alone in its cluster: its sockets' sessions live on its own silo until another silo joins, and then move
/// there (Orleans' live migration). The gateway follows the move, so it restores a session when the silo it moved to dies.
/// </summary>
public sealed class SessionMoveTests : IAsyncLifetime, IAsyncDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly OrleansGatewayCluster _cluster = new(gateways: 1);

    public Task InitializeAsync() => _cluster.StartAsync();

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_session_that_moved_to_a_new_silo_is_restored_when_that_silo_dies()
    {
        var gateway = _cluster.Gateways[0];
        var gatewaySilo = _cluster.SiloOf(gateway);
        await using var client = await TestClient.ConnectAsync(gateway.Url);
        var socket = gateway.Io.Sockets.Sockets[client.Id];
        await socket.JoinAsync("room");
        Assert.Equal(gatewaySilo, socket.SessionSilo);

        var grainSilo = await _cluster.AddGrainSiloAsync();
        await Eventually.HoldsAsync(() => grainSilo.SiloAddress.Equals(socket.SessionSilo), "the gateway told the session moved to the new silo", Wait);

        await _cluster.KillGrainSiloAsync(grainSilo);

        await Eventually.HoldsAsync(() => gatewaySilo.Equals(socket.SessionSilo), "the session restored on the gateway's silo", Wait);
        Assert.Equal(new HashSet<string> { socket.Id, "room" }, (await gateway.Io.Sockets.Adapter.GetSocketRoomsAsync(socket.Id)).ToHashSet());
        await gateway.Io.To("room").EmitAsync("still here");
        await client.ExpectEventAsync("still here");
    }
}
