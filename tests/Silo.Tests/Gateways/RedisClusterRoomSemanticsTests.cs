using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Gateways;

/// <summary>One three-master Redis Cluster for a test class (each test keeps its state apart with its own key prefix).</summary>
public sealed class SharedRedisCluster : IAsyncLifetime
{
    public RedisClusterServers Servers { get; private set; } = null!;

    public async Task InitializeAsync() => Servers = await RedisClusterServers.StartAsync(3);

    public async Task DisposeAsync() => await Servers.DisposeAsync();
}

/// <summary>The room-semantics suite, unchanged, against three gateways on a three-master Redis Cluster (hash slots, sharded pub/sub).</summary>
public sealed class RedisClusterRoomSemanticsTests(SharedRedisCluster redis) : RoomSemanticsSpecification, IClassFixture<SharedRedisCluster>
{
    protected override IGatewayCluster CreateCluster() => new RedisGatewayCluster(redis.Servers, gateways: 3);
}
