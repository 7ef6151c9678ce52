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
}
