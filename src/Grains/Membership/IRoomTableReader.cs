namespace OrleansRooms.Grains;

/// <summary>Read access to a <see cref="RoomTable{TMember}"/> by ids, for code that does not know the member type.</summary>
public interface IRoomTableReader
{
    /// <summary>The number of members.</summary>
    int MemberCount { get; }

    /// <summary>A copy of the rooms of member <paramref name="id"/>; empty when the member is unknown.</summary>
    IReadOnlyCollection<string> GetRooms(string id);

    /// <summary>A copy of the member ids of <paramref name="room"/>; empty when the room does not exist.</summary>
    IReadOnlyCollection<string> GetMembers(string room);

    /// <summary>A copy of the names of every room with at least one member.</summary>
    IReadOnlyCollection<string> GetRoomNames();

    /// <summary>A copy of the <c>rooms</c> map: room name to member ids.</summary>
    IReadOnlyDictionary<string, IReadOnlySet<string>> SnapshotRooms();

    /// <summary>A copy of the <c>sids</c> map: member id to room names.</summary>
    IReadOnlyDictionary<string, IReadOnlySet<string>> SnapshotSids();
}
