using OrleansRooms.Grains.Messages;
using Orleans.Concurrency;

namespace OrleansRooms.Grains.Routing;

/// <summary>
/// The entrance for processes that are not gateways (Orleans clients such as the C# <c>SocketIOEmitter</c>): routes a
/// message like a gateway would, once to each gateway hosting a selected socket.
/// </summary>
public interface IEmitterGrain : IGrainWithIntegerKey
{
    /// <summary>Sends <paramref name="message"/>; returns how many gateways took it.</summary>
    Task<int> SendAsync(ClusterMessage message);
}

/// <summary>Routes emitters' messages on whichever silo the call lands; stateless, so every silo runs its own copies.</summary>
[StatelessWorker, GrainType("orleansrooms-emitter")]
internal sealed class EmitterGrain(ClusterRouter router) : Grain, IEmitterGrain
{
    public async Task<int> SendAsync(ClusterMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return await router.SendAsync(message, self: null);
    }
}
