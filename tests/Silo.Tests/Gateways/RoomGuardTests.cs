using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Gateways;

/// <summary>
/// A namespace's room guard (<c>AuthorizeJoin</c>) on several gateways: a <c>SocketsJoinAsync</c> from one gateway is
/// guarded on the gateway of each socket it reaches, which leaves out the sockets its guard refuses.
/// </summary>
public sealed class RoomGuardTests : IAsyncLifetime, IAsyncDisposable
{
    private readonly OrleansGatewayCluster _cluster = new(gateways: 2);

    public Task InitializeAsync() => _cluster.StartAsync();

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task SocketsJoinAsync_from_another_gateway_leaves_out_the_sockets_the_guard_refuses()
    {
        foreach (var gateway in _cluster.Gateways)
        {
            gateway.Io.Of("/vault").AuthorizeJoin((socket, room) => room != "vault" || socket.Handshake.GetAuth<Pass>()?.Allowed == true);
        }

        var (caller, remote) = (_cluster.Gateways[0], _cluster.Gateways[1]);
        await using var allowed = await TestClient.ConnectAsync(remote.Url, "/vault", new Pass(true));
        await using var refused = await TestClient.ConnectAsync(remote.Url, "/vault", new Pass(false));

        await caller.Io.Of("/vault").SocketsJoinAsync("vault");
        await caller.Io.Of("/vault").In(refused.Id).SocketsJoinAsync("vault");

        var members = await caller.Io.Of("/vault").In("vault").FetchSocketsAsync();
        Assert.Equal([allowed.Id], members.Select(s => s.Id));
        Assert.DoesNotContain("vault", await caller.Io.Of("/vault").Adapter.GetSocketRoomsAsync(refused.Id));
        await caller.Io.Of("/vault").To("vault").EmitAsync("secret");
        await caller.Io.Of("/vault").EmitAsync("marker");
        await allowed.ExpectEventAsync("secret");
        await refused.ExpectNothingBeforeAsync("marker");
    }

    private sealed record Pass(bool Allowed);
}
