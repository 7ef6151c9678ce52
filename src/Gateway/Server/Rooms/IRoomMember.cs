namespace OrleansRooms.Rooms;

/// <summary>Something that can be a member of rooms. On a gateway, a connected socket.</summary>
internal interface IRoomMember
{
    /// <summary>The member's id, unique within its namespace. Every member is also in the room of this name.</summary>
    string Id { get; }
}
