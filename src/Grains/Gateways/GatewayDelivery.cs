using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Streams;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Grains.Naming;

namespace OrleansRooms.Grains.Gateways;

/// <summary>How a broadcast reaches another gateway.</summary>
public enum GatewayDeliveryMode
{
    /// <summary>A call to the gateway's inbox (<see cref="IGatewayService"/>), on its silo: completes once the gateway took the message. The default: fastest measured.</summary>
    DirectCall,

    /// <summary>The gateway's own Orleans stream on the configured stream provider, consumed by its <see cref="IGatewayGrain"/> (implicit subscription).</summary>
    Streams,
}

/// <summary>Sends a broadcast to one gateway. Throws when the gateway cannot take it (gone, or the provider refused).</summary>
internal interface IGatewayDelivery
{
    Task SendAsync(SiloAddress gateway, ClusterMessage message);
}

/// <summary>Delivers by calling the target gateway's inbox.</summary>
internal sealed class DirectCallDelivery(GatewayServices gateways) : IGatewayDelivery
{
    public Task SendAsync(SiloAddress gateway, ClusterMessage message) => gateways.On(gateway).DeliverAsync(message);
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
            // Bounded by the gateways ever seen; a cluster that churns thousands of gateways drops the cache.
            if (_streams.Count > 1024)
            {
                _streams.Clear();
            }

            _streams[gateway] = stream;
        }

        return stream.OnNextAsync(message);
    }
}
