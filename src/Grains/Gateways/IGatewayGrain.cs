using System.Collections.Immutable;
using OrleansRooms.Grains.Messages;

namespace OrleansRooms.Grains.Gateways;

/// <summary>
/// The inbox of one gateway (key: its silo address, <see cref="Membership.GrainKeys.Of(SiloAddress)"/>), placed on
/// that gateway's silo (<see cref="GatewayPlacementAttribute"/>): what other gateways and emitters send to the gateway
/// arrives here, by a direct call or through the gateway's stream, and is handed to the gateway's
/// <see cref="IGatewayInbox"/>. Implemented by the gateway, so only gateway silos can host it.
/// </summary>
public interface IGatewayGrain : IGrainWithStringKey
{
    /// <summary>The stream namespace of the gateways' streams, keyed like the gateway grains (implicit subscription).</summary>
    public const string StreamNamespace = "orleansrooms-gateway";

    /// <summary>The grain type of the gateway grain, which only gateway silos have in their manifest.</summary>
    public const string GrainTypeName = "orleansrooms-gateway";

    /// <summary>Hands <paramref name="message"/> to the gateway; completes once the gateway has taken it.</summary>
    Task DeliverAsync(ClusterMessage message);

    /// <summary>Which of <paramref name="rooms"/> of namespace <paramref name="ns"/> have a member on this gateway (its own table, which is authoritative).</summary>
    [Orleans.Concurrency.AlwaysInterleave]
    Task<ImmutableArray<string>> GetHostedRoomsAsync(string ns, ImmutableArray<string> rooms);
}

/// <summary>Where a gateway takes the messages sent to it (its grain, its stream, the official emitter's channels).</summary>
public interface IGatewayInbox
{
    /// <summary>Carries out <paramref name="message"/> on this gateway's sockets. Must not block: it queues writes and starts work.</summary>
    void Receive(ClusterMessage message);

    /// <summary>Which of <paramref name="rooms"/> of namespace <paramref name="ns"/> have a member among this gateway's sockets.</summary>
    ImmutableArray<string> GetHostedRooms(string ns, ImmutableArray<string> rooms);
}
