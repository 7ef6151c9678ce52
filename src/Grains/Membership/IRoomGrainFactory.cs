namespace OrleansRooms.Grains;

/// <summary>
/// The seam between a gateway and the grains. The gateway keeps its own sockets' rooms in a local
/// <see cref="RoomTable{TMember}"/> (the authoritative socket halves, used for local delivery at once) and calls the
/// grains so that the relation is known beyond the gateway.
/// </summary>
public interface IRoomGrainFactory
{
    /// <summary>Activates the grains of namespace <paramref name="name"/> for a gateway whose own sockets are in <paramref name="localTable"/>.</summary>
    INamespaceGrains ForNamespace(string name, IRoomTableReader localTable);

    /// <summary>
    /// Sets who receives the messages for namespaces this gateway has not activated (such as a dynamic namespace with
    /// no socket here), so that requests still get their (empty) answer instead of a timeout.
    /// </summary>
    void SetUnroutedMessageHandler(IClusterMessageHandler handler);
}
