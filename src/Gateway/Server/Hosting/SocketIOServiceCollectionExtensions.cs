using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansRooms;
using OrleansRooms.Engine;
using OrleansRooms.Cluster;
using OrleansRooms.Grains.Gateways;
using OrleansRooms.Grains.Hosting;
using OrleansRooms.Grains.Recovery;
using OrleansRooms.Recovery;
using OrleansRooms.Grains.Routing;
using OrleansRooms.Grains.Silos;
using OrleansRooms.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Socket.IO server.</summary>
public static class SocketIOServiceCollectionExtensions
{
    /// <summary>
    /// Adds the Socket.IO server: <see cref="SocketIOServer"/> as a singleton, options bound from the <c>SocketIO</c>
    /// configuration section and validated at start-up, and this gateway's part of the OrleansRooms cluster (its inbox
    /// grain, the routing of broadcasts, the handling of silos that leave, the <c>orleansrooms-cluster</c> health check).
    /// The rooms live in Orleans grains: the host
    /// must co-host an Orleans silo (<c>builder.UseOrleans(silo => silo.AddOrleansRooms())</c>, or any
    /// <c>UseOrleans</c>). Map the endpoint with <c>MapSocketIO</c>.
    /// </summary>
    public static IServiceCollection AddSocketIO(this IServiceCollection services, Action<SocketIOOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<SocketIOOptions>()
            .BindConfiguration(SocketIOOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.AddMetrics();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SocketIOOptions>, SocketIOOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddRoomsGrains();
        var first = !services.Any(d => d.ServiceType == typeof(GatewayCluster));
        services.TryAddSingleton(sp => new GatewayCluster(
            sp.GetService<ILocalSiloDetails>() ?? throw NoSilo(),
            sp.GetRequiredService<IGrainFactory>(),
            sp.GetRequiredService<ClusterRouter>(),
            sp.GetRequiredService<ClusterRetry>(),
            sp.GetRequiredService<SiloServices>(),
            sp.GetRequiredService<GatewayServices>(),
            sp.GetService<IClusterMembershipService>() ?? throw NoSilo(),
            sp.GetRequiredService<RecoveryLogs>(),
            sp.GetRequiredService<SequencedBroadcasts>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<GatewayCluster>>()));
        services.Replace(ServiceDescriptor.Singleton<IRecoverySettings>(sp => new GatewayRecoverySettings(sp.GetRequiredService<IOptions<SocketIOOptions>>())));
        services.TryAddSingleton<IRecoveryDelivery>(sp => new RecoveryDelivery(sp.GetRequiredService<SocketIOServer>()));
        services.TryAddSingleton<IGatewayInbox>(sp => new GatewayInbox(sp.GetRequiredService<SocketIOServer>()));
        if (first)
        {
            services.AddGrainService<GatewayService>();
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SessionRestorer>(sp => new SessionRestorer(
            sp.GetService<IClusterMembershipService>() ?? throw NoSilo(),
            sp.GetRequiredService<SocketIOServer>(),
            sp.GetRequiredService<ILogger<SessionRestorer>>())));
        if (!services.Any(d => d.ServiceType == typeof(ClusterHealthCheck)))
        {
            services.TryAddSingleton<ClusterHealthCheck>();
            services.AddHealthChecks().AddCheck<ClusterHealthCheck>(ClusterHealthCheck.Name);
        }

        services.TryAddSingleton<GatewayMetrics>();
        services.TryAddSingleton(sp => new SocketIOServer(
            sp.GetRequiredService<IOptions<SocketIOOptions>>(),
            sp.GetRequiredService<GatewayCluster>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<GatewayMetrics>(),
            sp));
        services.TryAddSingleton(sp => new EngineServer(
            sp.GetRequiredService<IOptions<SocketIOOptions>>().Value,
            sp.GetRequiredService<SocketIOServer>().EngineHandler,
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            sp.GetRequiredService<SocketIOServer>().Engine));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SocketIOShutdown>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<KestrelServerOptions>, KestrelConnectionLimits>());
        return services;
    }

    private static InvalidOperationException NoSilo() => RoomsGrainServices.NoSilo();
}
