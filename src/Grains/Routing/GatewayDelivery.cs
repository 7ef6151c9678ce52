using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Streams;
using OrleansRooms.Grains.Gateways;
using OrleansRooms.Grains.Membership;
using OrleansRooms.Grains.Messages;

namespace OrleansRooms.Grains.Routing;

/// <summary>How a message reaches another gateway's inbox (<see cref="IGatewayGrain"/>).</summary>
public enum GatewayDeliveryMode
{
    /// <summary>A call to the gateway's grain, placed on its silo: completes once the gateway took the message. The default: fastest measured.</summary>
    DirectCall,

    /// <summary>The gateway's own Orleans stream on the configured stream provider, consumed by the gateway grain (implicit subscription).</summary>
    Streams,
}

/// <summary>Sends a message to one gateway. Throws when the gateway cannot take it (gone, or the provider refused).</summary>
internal interface IGatewayDelivery
{
    Task SendAsync(SiloAddress gateway, ClusterMessage message);
}

/// <summary>Delivers by calling the target gateway's grain; grain references are kept per gateway.</summary>
internal sealed class DirectCallDelivery(IGrainFactory grains) : IGatewayDelivery
{
    private readonly ConcurrentDictionary<SiloAddress, IGatewayGrain> _inboxes = new();

    public Task SendAsync(SiloAddress gateway, ClusterMessage message)
    {
        if (!_inboxes.TryGetValue(gateway, out var inbox))
        {
            inbox = grains.GetGrain<IGatewayGrain>(GrainKeys.Of(gateway));
            // Bounded by the gateways ever seen; a cluster that churns thousands of gateways drops the cache.
            if (_inboxes.Count > 1024)
            {
                _inboxes.Clear();
            }

            _inboxes[gateway] = inbox;
        }

        return inbox.DeliverAsync(message);
    }
}

/// <summary>Delivers through the target gateway's stream, one per gateway, on the stream provider named in the options.</summary>
internal sealed class StreamDelivery(IServiceProvider services, string providerName) : IGatewayDelivery
{
    private readonly ConcurrentDictionary<SiloAddress, IAsyncStream<ClusterMessage>> _streams = new();
    private IStreamProvider? _provider;

    public Task SendAsync(SiloAddress gateway, ClusterMessage message)
    {
        if (!_streams.TryGetValue(gateway, out var stream))
        {
            _provider ??= services.GetRequiredKeyedService<IStreamProvider>(providerName);
            stream = _provider.GetStream<ClusterMessage>(StreamId.Create(IGatewayGrain.StreamNamespace, GrainKeys.Of(gateway)));
            if (_streams.Count > 1024)
            {
                _streams.Clear();
            }

            _streams[gateway] = stream;
        }

        return stream.OnNextAsync(message);
    }
}
