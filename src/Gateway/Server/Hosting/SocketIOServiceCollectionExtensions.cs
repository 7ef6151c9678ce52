using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansRooms;
using OrleansRooms.Engine;
using OrleansRooms.Grains;
using OrleansRooms.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Socket.IO server.</summary>
public static class SocketIOServiceCollectionExtensions
{
    /// <summary>
    /// Adds the Socket.IO server: <see cref="SocketIOServer"/> as a singleton, options bound from the <c>SocketIO</c>
    /// configuration section and validated at start-up, and the in-process room grains unless another
    /// <see cref="IRoomGrainFactory"/> was registered first. Map the endpoint with <c>MapSocketIO</c>.
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
        services.TryAddSingleton<IRoomGrainFactory, InProcessRoomGrainFactory>();
        services.TryAddSingleton<GatewayMetrics>();
        services.TryAddSingleton(sp => new SocketIOServer(
            sp.GetRequiredService<IOptions<SocketIOOptions>>(),
            sp.GetRequiredService<IRoomGrainFactory>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<GatewayMetrics>()));
        services.TryAddSingleton(sp => new EngineServer(
            sp.GetRequiredService<IOptions<SocketIOOptions>>().Value,
            sp.GetRequiredService<SocketIOServer>().EngineHandler,
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SocketIOShutdown>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<KestrelServerOptions>, KestrelConnectionLimits>());
        return services;
    }
}
