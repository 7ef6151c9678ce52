namespace OrleansRooms.Grains.Messages;

/// <summary>
/// Which sockets a broadcast reaches: those in at least one of <see cref="Rooms"/> (every socket of the namespace when
/// it is empty), minus those in any of <see cref="Except"/>.
/// </summary>
public readonly record struct RoomSelection(IReadOnlyCollection<string> Rooms, IReadOnlyCollection<string> Except)
{
    /// <summary>Every socket.</summary>
    public static RoomSelection All { get; } = new([], []);

    /// <summary>True when no room is named, so the whole namespace is targeted.</summary>
    public bool IsAll => Rooms.Count == 0;
}
