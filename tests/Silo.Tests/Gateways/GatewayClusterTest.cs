using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Gateways;

/// <summary>
/// A test on a real cluster of gateways (started before each test) and the clients it connects, all disposed after it.
/// </summary>
public abstract class GatewayClusterTest(OrleansGatewayCluster cluster) : IAsyncLifetime, IAsyncDisposable
{
    protected OrleansGatewayCluster Cluster => cluster;

    /// <summary>The clients to dispose after the test, before the cluster.</summary>
    protected List<TestClient> Clients { get; } = [];

    public Task InitializeAsync() => cluster.StartAsync();

    async ValueTask IAsyncDisposable.DisposeAsync()
    {
        await DisposeAsync();
        GC.SuppressFinalize(this);
    }

    public async Task DisposeAsync()
    {
        foreach (var client in Clients)
        {
            await client.DisposeAsync();
        }

        await cluster.DisposeAsync();
    }
}
