using System.Collections.Immutable;
using Orleans.Services;
using OrleansRooms.Grains.Messages;

namespace OrleansRooms.Grains.Gateways;

/// <summary>
/// The inbox of one gateway: an Orleans grain service on each gateway's silo (grain-only silos have none), addressed by
/// silo, so nothing is placed or looked up to reach it and a gateway that left is simply unreachable. Implemented by the
/// gateway. Each request is a call that returns its answer.
/// </summary>
internal interface IGatewayService : IGrainService
{
    /// <summary>Delivers a broadcast to this gateway's selected sockets; completes once the gateway has taken it.</summary>
    Task DeliverAsync(ClusterMessage message);

    /// <summary>
    /// Delivers a broadcast that asks for acknowledgements, and answers once every socket it reached answered or
    /// disconnected, or at <paramref name="timeout"/> with the answers so far.
    /// </summary>
    [ResponseTimeout("1.00:00:00")]
    Task<BroadcastAcks> DeliverWithAcksAsync(ClusterMessage message, TimeSpan? timeout);

    /// <summary>The selected sockets of this gateway: id, handshake, rooms and data, as a JSON array.</summary>
    Task<ReadOnlyMemory<byte>> FetchSocketsAsync(string ns, ImmutableArray<string> rooms, ImmutableArray<string> except);

    /// <summary>Makes the selected sockets join, leave or disconnect (<see cref="ClusterMessage.Type"/>); completes once done.</summary>
    Task ApplyAsync(ClusterMessage message);

    /// <summary>
    /// Raises a server-side event; with <paramref name="ackTimeout"/>, answers with the handlers' acknowledgement, or none
    /// when they gave none within it.
    /// </summary>
    [ResponseTimeout("1.00:00:00")]
    Task<ServerAck> ServerSideEmitAsync(ClusterMessage message, TimeSpan? ackTimeout);

    /// <summary>Whether socket <paramref name="id"/> of <paramref name="ns"/> is connected here (its connection has not dropped).</summary>
    Task<bool> HasSocketAsync(string ns, string id);

    /// <summary>Raises, on this gateway's adapters, the room events of the sockets of a gateway that left the cluster.</summary>
    Task RaiseReleasedAsync(ImmutableArray<RoomEvent> events);

    /// <summary>
    /// Raises, on this gateway's namespace <paramref name="ns"/>, the presence changes of another gateway's sockets, in
    /// the order that gateway recorded them; a namespace without presence subscribers here drops them.
    /// </summary>
    Task PresenceAsync(string ns, ImmutableArray<PresenceChange> changes);

    /// <summary>
    /// The session of socket <paramref name="id"/> of <paramref name="ns"/> moved to <paramref name="silo"/> (Orleans' live
    /// migration): the silo whose death the gateway restores it after.
    /// </summary>
    Task SessionMovedAsync(string ns, string id, SiloAddress silo);
}

/// <summary>References to the <see cref="IGatewayService"/> of any gateway.</summary>
internal sealed class GatewayServices(IServiceProvider services) : Orleans.Runtime.Services.GrainServiceClient<IGatewayService>(services)
{
    /// <summary>The inbox of <paramref name="gateway"/>.</summary>
    public IGatewayService On(SiloAddress gateway) => GetGrainService(gateway);
}

/// <summary>What a gateway does with what reaches it outside its service: its stream, and the official emitter's channels.</summary>
internal interface IGatewayInbox
{
    /// <summary>Carries out <paramref name="message"/> on this gateway's sockets. Must not block: it queues writes and starts work.</summary>
    void Receive(ClusterMessage message);
}
