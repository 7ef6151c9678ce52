using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Hosting;
using OrleansRooms.Grains.Gateways;
using OrleansRooms.Grains.Routing;

namespace OrleansRooms.Grains.Hosting;

/// <summary>What a silo needs to host the OrleansRooms grains: their placement directors and the routing of messages.</summary>
internal static class RoomsGrainServices
{
    /// <summary>Adds the services to a silo's (or a co-hosting gateway's) service collection. Safe to call more than once.</summary>
    public static IServiceCollection AddRoomsGrains(this IServiceCollection services)
    {
        services.AddOptions<RoomsClusterOptions>().BindConfiguration(RoomsClusterOptions.SectionName);
        if (services.Any(d => d.ServiceType == typeof(GatewayDirectory)))
        {
            return services;
        }

        services.AddPlacementDirector<GatewayPlacement, GatewayPlacementDirector>();
        services.AddPlacementDirector<AwayFromGatewayPlacement, AwayFromGatewayPlacementDirector>();
        services.TryAddSingleton<GatewayDirectory>();
        services.TryAddSingleton<GatewayCopyWriter>();
        services.TryAddSingleton<IGatewayDelivery>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RoomsClusterOptions>>().Value;
            return options.Delivery == GatewayDeliveryMode.Streams
                ? new StreamDelivery(sp, options.StreamProvider)
                : new DirectCallDelivery(sp.GetRequiredService<IGrainFactory>());
        });
        services.TryAddSingleton(sp => new ClusterRouter(
            sp.GetRequiredService<IGrainFactory>(),
            sp.GetRequiredService<GatewayDirectory>(),
            sp.GetRequiredService<IGatewayDelivery>(),
            sp.GetRequiredService<ILogger<ClusterRouter>>()));
        return services;
    }
}
