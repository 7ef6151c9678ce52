using System.Collections.Immutable;
using Orleans.Concurrency;

namespace OrleansRooms.Grains.Membership;

/// <summary>
/// The socket's half of the membership relation, for one socket of one namespace (key <c>namespace,socketId</c>,
/// <see cref="GrainKeys"/>): the rooms it joined, and its gateway. It lives on its gateway's silo, so it dies with the
/// connection's process. Every socket is in the room named by its id; that room is implied by the grain itself, not
/// stored in a room grain. Joining or leaving through this grain writes both halves (this grain and each room grain)
/// and the gateway's copy in <see cref="Gateways.IGatewaySocketsGrain"/>; the call completes when all are written.
/// </summary>
public interface ISocketGrain : IGrainWithStringKey
{
    /// <summary>Registers the socket, connected on <paramref name="gateway"/> and in its own-id room.</summary>
    Task ConnectAsync(SiloAddress gateway);

    /// <summary>Adds the socket to <paramref name="rooms"/>; rooms it is already in are left as they are.</summary>
    Task JoinAsync(ImmutableArray<string> rooms);

    /// <summary>Removes the socket from <paramref name="rooms"/>; rooms it is not in are ignored.</summary>
    Task LeaveAsync(ImmutableArray<string> rooms);

    /// <summary>Removes the socket from every room (disconnection); the grain then deactivates.</summary>
    Task DisconnectAsync();

    /// <summary>
    /// Writes this socket's rooms again to the room grains and the gateway's copy, which may have been lost with
    /// another silo. Idempotent; ordered with this socket's joins and leaves, so it never brings back a room left.
    /// </summary>
    Task RepublishAsync();

    /// <summary>The rooms the socket is in, its own-id room first; empty when it is not connected.</summary>
    [AlwaysInterleave]
    Task<ImmutableArray<string>> GetRoomsAsync();
}
