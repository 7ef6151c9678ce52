namespace OrleansRooms.Grains;

/// <summary>
/// The embedded default: one node, no cluster. The only gateway's local table is the whole relation, so the room and
/// socket grains are views over it and keep no second copy; join and leave are complete once the table is written.
/// </summary>
public sealed class InProcessRoomGrainFactory : IRoomGrainFactory
{
    /// <inheritdoc />
    public INamespaceGrains ForNamespace(string name, IRoomTableReader localTable)
    {
        ArgumentNullException.ThrowIfNull(localTable);
        return new InProcessNamespaceGrains(name, localTable);
    }

    /// <inheritdoc />
    public void SetUnroutedMessageHandler(IClusterMessageHandler handler)
    {
        // One node: no message ever comes from another gateway.
    }

    private sealed class InProcessNamespaceGrains(string name, IRoomTableReader table) : INamespaceGrains
    {
        public string Namespace { get; } = name;

        public ISocketGrain GetSocket(string socketId) => new SocketGrain(socketId, table);

        public IRoomGrain GetRoom(string room) => new RoomGrain(room, table);

        public ValueTask<IReadOnlyCollection<string>> GetRoomNamesAsync(CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(table.GetRoomNames());

        public string GatewayId => "local";

        // One node: there is no other gateway to reach.
        public ValueTask<int> PublishAsync(ClusterMessage message, CancellationToken cancellationToken = default) => ValueTask.FromResult(0);

        public ValueTask SendAsync(string gatewayId, ClusterMessage message, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public void SetMessageHandler(IClusterMessageHandler handler)
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class SocketGrain(string id, IRoomTableReader table) : ISocketGrain
    {
        public string Id { get; } = id;

        // The gateway has already written the local table, which is the only copy on one node.
        public ValueTask JoinAsync(IReadOnlyList<string> rooms, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask LeaveAsync(IReadOnlyList<string> rooms, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask LeaveAllAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask<IReadOnlyCollection<string>> GetRoomsAsync(CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(table.GetRooms(Id));
    }

    private sealed class RoomGrain(string name, IRoomTableReader table) : IRoomGrain
    {
        public string Name { get; } = name;

        public ValueTask<IReadOnlyCollection<string>> GetMembersAsync(CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(table.GetMembers(Name));
    }
}
