using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Hosting;
using OrleansRooms.Grains.Gateways;
using OrleansRooms.Grains.Recovery;
using OrleansRooms.Grains.Rooms;
using OrleansRooms.Grains.Routing;
using OrleansRooms.Grains.Sessions;
using OrleansRooms.Grains.Silos;

namespace OrleansRooms.Grains.Hosting;

/// <summary>What a silo needs to host the OrleansRooms grains: placement, its registries, its service, routing.</summary>
internal static class RoomsGrainServices
{
    /// <summary>Adds the services to a silo's (or a co-hosting gateway's) service collection. Safe to call more than once.</summary>
    public static IServiceCollection AddRoomsGrains(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(SessionRegistry)))
        {
            return services;
        }

        services.AddOptions<RoomsClusterOptions>()
            .BindConfiguration(RoomsClusterOptions.SectionName)
            .Validate(static o => o.RetryTimeout >= TimeSpan.Zero, $"{RoomsClusterOptions.SectionName}:RetryTimeout cannot be negative.")
            .Validate(static o => o.RouteCacheCapacity >= 16, $"{RoomsClusterOptions.SectionName}:RouteCacheCapacity must be at least 16.");
        services.TryAddSingleton(TimeProvider.System);
        services.AddPlacementDirector<GatewayPlacement, GatewayPlacementDirector>();
        services.AddPlacementDirector<SessionPlacement, SessionPlacementDirector>();
        services.AddSingleton<SessionRegistry>();
        services.AddSingleton<RoomRegistry>();
        services.AddSingleton<RoomWriter>();
        services.AddSingleton<ClusterRetry>();
        services.AddSingleton<RouteCaches>();
        services.AddSingleton<RoutePublisher>();
        services.AddSingleton<RoomRebuilder>();
        services.AddSingleton<RoomServices>();
        services.AddSingleton<GatewayDirectory>();
        services.AddSingleton<SiloServices>();
        services.AddSingleton<GatewayServices>();
        services.AddSingleton<IGatewayDelivery>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RoomsClusterOptions>>().Value;
            return options.Delivery == GatewayDeliveryMode.Streams
                ? new StreamDelivery(sp, options.StreamProvider)
                : new DirectCallDelivery(sp.GetRequiredService<GatewayServices>());
        });
        services.AddSingleton<ClusterRouter>();
        services.TryAddSingleton<IRecoverySettings, ConfiguredRecoverySettings>();
        services.AddSingleton<RecoveryLogs>();
        services.AddSingleton<RecoveryMetrics>();
        services.AddSingleton<SequencedBroadcasts>();
        services.AddMetrics();
        services.AddGrainService<SiloService>();
        services.AddSingleton<IIncomingGrainCallFilter, ClusterPlumbingFilter>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, ActivationMover>();
        services.AddSingleton<IHostedService>(sp =>
            sp.GetService<IClusterMembershipService>() is null ? throw NoSilo() : ActivatorUtilities.CreateInstance<ClusterLossHandler>(sp));
        return services;
    }

    /// <summary>The error of a host that has the OrleansRooms services but no Orleans silo to run them.</summary>
    public static InvalidOperationException NoSilo() => new(
        "OrleansRooms keeps rooms in Orleans grains, and a gateway co-hosts an Orleans silo: add one with " +
        "builder.UseOrleans(silo => silo.AddOrleansRooms()) (package OrleansRooms.Silo), or any UseOrleans configuration.");
}
