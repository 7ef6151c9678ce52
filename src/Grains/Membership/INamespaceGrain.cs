using System.Collections.Immutable;
using Orleans.Concurrency;

namespace OrleansRooms.Grains.Membership;

/// <summary>
/// The index of one namespace's rooms (key: the namespace name): every room that has at least one member joined
/// explicitly, so listing the rooms asks one grain, not every gateway. Kept by the room grains as they get their first
/// member or lose their last. Own-id rooms are not listed here: they are the sockets, listed by the gateways' copies.
/// </summary>
public interface INamespaceGrain : IGrainWithStringKey
{
    /// <summary>Lists <paramref name="room"/>. Idempotent.</summary>
    Task AddRoomAsync(string room);

    /// <summary>Stops listing <paramref name="room"/>. Idempotent.</summary>
    Task RemoveRoomAsync(string room);

    /// <summary>The rooms listed.</summary>
    [AlwaysInterleave]
    Task<ImmutableArray<string>> GetRoomsAsync();
}
