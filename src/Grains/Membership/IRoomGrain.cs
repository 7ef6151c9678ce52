namespace OrleansRooms.Grains;

/// <summary>The room's half of the membership relation: the sockets in one room of one namespace.</summary>
public interface IRoomGrain
{
    /// <summary>The room name.</summary>
    string Name { get; }

    /// <summary>The ids of the sockets in the room (empty when the room does not exist).</summary>
    ValueTask<IReadOnlyCollection<string>> GetMembersAsync(CancellationToken cancellationToken = default);
}
