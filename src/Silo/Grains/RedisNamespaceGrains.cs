using OrleansRooms.Grains;

namespace OrleansRooms.Silo.Grains;

/// <summary>The grains of one namespace as one gateway sees them, on Redis.</summary>
internal sealed class RedisNamespaceGrains(RedisRoomGrainFactory factory, string name, IRoomTableReader table) : INamespaceGrains
{
    private volatile IClusterMessageHandler? _handler;

    public string Namespace { get; } = name;

    /// <summary>The gateway's own sockets: the authoritative socket halves, re-published when Redis loses its copy.</summary>
    public IRoomTableReader Table { get; } = table;

    public string GatewayId => factory.GatewayId;

    internal IClusterMessageHandler? Handler => _handler;

    internal RedisRoomGrainFactory Factory => factory;

    public ISocketGrain GetSocket(string socketId) => new RedisSocketGrain(this, socketId);

    public IRoomGrain GetRoom(string room) => new RedisRoomGrain(this, room);

    public ValueTask<IReadOnlyCollection<string>> GetRoomNamesAsync(CancellationToken cancellationToken = default) =>
        factory.RunAsync("rooms", ct => factory.Store.GetRoomNamesAsync(Namespace, ct), cancellationToken);

    public ValueTask<int> PublishAsync(ClusterMessage message, CancellationToken cancellationToken = default) =>
        factory.RunAsync("publish", ct => factory.Publisher.PublishAsync(message, factory.GatewayId, ct), cancellationToken);

    public ValueTask SendAsync(string gatewayId, ClusterMessage message, CancellationToken cancellationToken = default) =>
        factory.RunAsync("send", ct => factory.Publisher.SendAsync(gatewayId, message, ct), cancellationToken);

    public void SetMessageHandler(IClusterMessageHandler handler) => _handler = handler;

    public ValueTask DisposeAsync()
    {
        factory.Deactivate(this);
        return ValueTask.CompletedTask;
    }
}

/// <summary>The socket grain: its rooms in <c>P:s:{N#S}</c>, and its membership in each room's hashes.</summary>
internal sealed class RedisSocketGrain(RedisNamespaceGrains grains, string id) : ISocketGrain
{
    public string Id { get; } = id;

    public ValueTask JoinAsync(IReadOnlyList<string> rooms, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rooms);
        var factory = grains.Factory;
        return factory.RunAsync("join", ct => factory.Store.JoinAsync(grains.Namespace, Id, rooms, factory.GatewayId, ct), cancellationToken);
    }

    public ValueTask LeaveAsync(IReadOnlyList<string> rooms, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rooms);
        var factory = grains.Factory;
        // After a clean stop this gateway's sockets are already gone from Redis: nothing left to remove.
        return factory.IsRunning
            ? factory.RunAsync("leave", ct => factory.Store.LeaveAsync(grains.Namespace, Id, rooms, ct), cancellationToken)
            : ValueTask.CompletedTask;
    }

    public ValueTask LeaveAllAsync(CancellationToken cancellationToken = default)
    {
        var factory = grains.Factory;
        return factory.IsRunning
            ? factory.RunAsync("leave", ct => factory.Store.RemoveSocketAsync(grains.Namespace, Id, factory.GatewayId, ct), cancellationToken)
            : ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyCollection<string>> GetRoomsAsync(CancellationToken cancellationToken = default)
    {
        var factory = grains.Factory;
        return factory.RunAsync<IReadOnlyCollection<string>>("rooms", async ct => await factory.Store.GetRoomsAsync(grains.Namespace, Id, ct), cancellationToken);
    }
}

/// <summary>The room grain: its members in <c>P:r:{N#R}:m</c>.</summary>
internal sealed class RedisRoomGrain(RedisNamespaceGrains grains, string name) : IRoomGrain
{
    public string Name { get; } = name;

    public ValueTask<IReadOnlyCollection<string>> GetMembersAsync(CancellationToken cancellationToken = default)
    {
        var factory = grains.Factory;
        return factory.RunAsync<IReadOnlyCollection<string>>("members", async ct => await factory.Store.GetMembersAsync(grains.Namespace, Name, ct), cancellationToken);
    }
}
