using System.Collections.Concurrent;
using OrleansRooms.Grains;
using OrleansRooms.Silo.Grains;
using OrleansRooms.Silo.Hosting;

namespace OrleansRooms.Silo.Tests.Cluster;

/// <summary>
/// One gateway as the Socket.IO layer drives it: a local <see cref="RoomTable{TMember}"/> written first, then the
/// grains, exactly in the order <c>Namespace</c> and <c>Socket</c> call them. Several in one process make a cluster.
/// </summary>
internal sealed class TestGateway : IAsyncDisposable, IClusterMessageHandler
{
    private TestGateway(RedisClusterOptions options, string ns)
    {
        Metrics = new ClusterMetrics(null);
        Factory = new RedisRoomGrainFactory(options, TimeProvider.System, null, Metrics);
        Table = new RoomTable<Member>();
        Grains = Factory.ForNamespace(ns, Table);
        Grains.SetMessageHandler(this);
    }

    public RedisRoomGrainFactory Factory { get; }

    public ClusterMetrics Metrics { get; }

    public RoomTable<Member> Table { get; }

    public INamespaceGrains Grains { get; }

    public string Id => Factory.GatewayId;

    public ConcurrentQueue<ClusterMessage> Received { get; } = new();

    public static async Task<TestGateway> StartAsync(RedisClusterOptions options, string ns = "/")
    {
        var gateway = new TestGateway(options, ns);
        await gateway.Factory.StartAsync();
        return gateway;
    }

    /// <summary>Connect: the socket is added to the table (in its own-id room), then the grain joins it.</summary>
    public async Task ConnectAsync(string socketId, params string[] rooms)
    {
        Assert.True(Table.Add(new Member(socketId)));
        await Grains.GetSocket(socketId).JoinAsync([socketId]);
        if (rooms.Length > 0)
        {
            await JoinAsync(socketId, rooms);
        }
    }

    public async Task JoinAsync(string socketId, params string[] rooms)
    {
        Table.Join(socketId, rooms);
        await Grains.GetSocket(socketId).JoinAsync(rooms);
    }

    public async Task LeaveAsync(string socketId, params string[] rooms)
    {
        Table.Leave(socketId, rooms);
        await Grains.GetSocket(socketId).LeaveAsync(rooms);
    }

    public async Task DisconnectAsync(string socketId)
    {
        Table.Remove(socketId);
        await Grains.GetSocket(socketId).LeaveAllAsync();
    }

    public void OnClusterMessage(ClusterMessage message) => Received.Enqueue(message);

    public async ValueTask DisposeAsync() => await Factory.DisposeAsync();

    internal sealed record Member(string Id) : IRoomMember;
}
