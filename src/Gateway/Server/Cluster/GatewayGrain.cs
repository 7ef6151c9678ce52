using System.Collections.Immutable;
using Orleans.Streams;
using Orleans.Streams.Core;
using OrleansRooms.Grains.Gateways;
using OrleansRooms.Grains.Messages;

namespace OrleansRooms.Cluster;

/// <summary>
/// This gateway's inbox in the cluster (<see cref="IGatewayGrain"/>): placed on the gateway's own silo, it takes what
/// other gateways send, by a direct call or through the gateway's stream (implicitly subscribed, so nothing has to be
/// re-subscribed when a silo restarts), and hands it to <see cref="GatewayInbox"/>. Implemented here, in the gateway,
/// so a silo without a gateway has no such grain in its manifest and is never sent broadcasts.
/// </summary>
[GrainType(IGatewayGrain.GrainTypeName), GatewayPlacement, KeepAlive]
[ImplicitStreamSubscription(IGatewayGrain.StreamNamespace)]
internal sealed class GatewayGrain(IGatewayInbox inbox) : Grain, IGatewayGrain, IStreamSubscriptionObserver, IAsyncObserver<ClusterMessage>
{
    public Task DeliverAsync(ClusterMessage message)
    {
        inbox.Receive(message);
        return Task.CompletedTask;
    }

    public Task<ImmutableArray<string>> GetHostedRoomsAsync(string ns, ImmutableArray<string> rooms) =>
        Task.FromResult(inbox.GetHostedRooms(ns, rooms));

    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        await handleFactory.Create<ClusterMessage>().ResumeAsync(this);

    public Task OnNextAsync(ClusterMessage item, StreamSequenceToken? token = null) => DeliverAsync(item);

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;
}
