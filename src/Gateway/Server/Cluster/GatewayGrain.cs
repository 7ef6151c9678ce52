using Orleans.Streams;
using Orleans.Streams.Core;
using OrleansRooms.Grains.Gateways;
using OrleansRooms.Grains.Messages;

namespace OrleansRooms.Cluster;

/// <summary>
/// This gateway's stream consumer (<see cref="IGatewayGrain"/>), for the <see cref="GatewayDeliveryMode.Streams"/>
/// mode: placed on the gateway's own silo, it takes the broadcasts published on the gateway's stream (implicitly
/// subscribed, so nothing has to be re-subscribed when a silo restarts) and hands them to <see cref="IGatewayInbox"/>.
/// Implemented here, in the gateway, so a silo without a gateway has no such grain in its manifest.
/// </summary>
[GrainType(IGatewayGrain.GrainTypeName), GatewayPlacement, KeepAlive]
[ImplicitStreamSubscription(IGatewayGrain.StreamNamespace)]
internal sealed class GatewayGrain(IGatewayInbox inbox) : Grain, IGatewayGrain, IStreamSubscriptionObserver, IAsyncObserver<ClusterMessage>
{
    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        await handleFactory.Create<ClusterMessage>().ResumeAsync(this);

    public Task OnNextAsync(ClusterMessage item, StreamSequenceToken? token = null)
    {
        inbox.Receive(item);
        return Task.CompletedTask;
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;
}
