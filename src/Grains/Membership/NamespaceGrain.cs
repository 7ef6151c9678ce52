using System.Collections.Immutable;

namespace OrleansRooms.Grains.Membership;

/// <summary>
/// Owns the list of one namespace's rooms. Always active: there is one per namespace the application serves, and every
/// list of rooms reads it. Rebuilt by the room grains' re-publish when lost with its silo.
/// </summary>
[KeepAlive, GrainType("orleansrooms-namespace")]
internal sealed class NamespaceGrain : Grain, INamespaceGrain
{
    private readonly HashSet<string> _rooms = new(StringComparer.Ordinal);

    public Task AddRoomAsync(string room)
    {
        _rooms.Add(room);
        return Task.CompletedTask;
    }

    public Task RemoveRoomAsync(string room)
    {
        _rooms.Remove(room);
        return Task.CompletedTask;
    }

    public Task<ImmutableArray<string>> GetRoomsAsync() => Task.FromResult(_rooms.ToImmutableArray());
}
