using System.Collections.Immutable;
using Orleans.Concurrency;

namespace OrleansRooms.Grains.Membership;

/// <summary>
/// The room's half of the membership relation, for one room of one namespace (key <c>namespace,room</c>,
/// <see cref="GrainKeys"/>): its members and the gateway hosting each, so a broadcast goes once to each gateway that
/// hosts a member. Written by the socket grains; placed with the gateway that first wrote it, so a room whose members
/// are all on one gateway costs no remote call.
/// </summary>
public interface IRoomGrain : IGrainWithStringKey
{
    /// <summary>Adds socket <paramref name="socketId"/>, hosted by <paramref name="gateway"/>. Idempotent.</summary>
    Task AddAsync(string socketId, SiloAddress gateway);

    /// <summary>Removes socket <paramref name="socketId"/>. Idempotent.</summary>
    Task RemoveAsync(string socketId);

    /// <summary>Removes every member hosted by <paramref name="gateway"/> (a gateway that died).</summary>
    Task RemoveGatewayAsync(SiloAddress gateway);

    /// <summary>The gateways hosting at least one member.</summary>
    [AlwaysInterleave]
    Task<ImmutableArray<SiloAddress>> GetGatewaysAsync();

    /// <summary>The ids of the members.</summary>
    [AlwaysInterleave]
    Task<ImmutableArray<string>> GetMembersAsync();
}
