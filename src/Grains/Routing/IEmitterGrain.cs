using OrleansRooms.Grains.Gateways;
using OrleansRooms.Grains.Messages;
using Orleans.Concurrency;

namespace OrleansRooms.Grains.Routing;

/// <summary>
/// The entrance for processes that are not gateways (Orleans clients such as the C# <c>SocketIOEmitter</c>): routes a
/// message as a gateway would, once to each gateway hosting a selected socket. The only OrleansRooms grain an Orleans
/// client may call (<see cref="Hosting.ClusterPlumbingFilter"/>).
/// </summary>
internal interface IEmitterGrain : IGrainWithIntegerKey
{
    /// <summary>The grain type of the emitter grain (part of its grain ids: the same on every silo and client of a cluster).</summary>
    public const string GrainTypeName = "orleansrooms-emitter";

    /// <summary>Carries out <paramref name="message"/>; returns how many gateways took it.</summary>
    Task<int> SendAsync(ClusterMessage message);
}

/// <summary>Routes emitters' messages on whichever silo the call lands; stateless, so every silo runs its own copies.</summary>
[StatelessWorker, GrainType(IEmitterGrain.GrainTypeName)]
internal sealed class EmitterGrain(ClusterRouter router, GatewayServices gateways, Recovery.RecoveryLogs recovery, Recovery.SequencedBroadcasts sequenced) : Grain, IEmitterGrain
{
    public async Task<int> SendAsync(ClusterMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (recovery.Enabled && message.Type == ClusterMessageType.Broadcast && (message.Flags & ClusterMessageFlags.Volatile) == 0)
        {
            // Kept for recovery like a gateway's broadcasts: every silo takes it, in this silo's sequence.
            await sequenced.PublishAsync(message);
            return router.Directory.Gateways.Length;
        }

        var rooms = message.Type == ClusterMessageType.ServerSideEmit ? [] : message.Rooms;
        var targets = await router.ResolveAsync(message.Namespace, rooms, self: null);
        switch (message.Type)
        {
            case ClusterMessageType.Broadcast:
                return await router.BroadcastAsync(targets, message);
            case ClusterMessageType.ServerSideEmit:
                await Task.WhenAll(targets.Select(gateway => gateways.On(gateway).ServerSideEmitAsync(message, null)));
                return targets.Count;
            default:
                await Task.WhenAll(targets.Select(gateway => gateways.On(gateway).ApplyAsync(message)));
                return targets.Count;
        }
    }
}
