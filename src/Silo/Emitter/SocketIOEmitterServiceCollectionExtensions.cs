using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansRooms.Emitter;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a <see cref="SocketIOEmitter"/> for processes that send to an OrleansRooms cluster.</summary>
public static class SocketIOEmitterServiceCollectionExtensions
{
    /// <summary>
    /// Adds a singleton <see cref="SocketIOEmitter"/> configured by <paramref name="configure"/> (the cluster's Redis,
    /// the emitter key). It connects on first use and is disposed with the container.
    /// </summary>
    public static IServiceCollection AddSocketIOEmitter(this IServiceCollection services, Action<SocketIOEmitterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<SocketIOEmitterOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton(sp => new SocketIOEmitter(
            sp.GetRequiredService<IOptions<SocketIOEmitterOptions>>().Value,
            sp.GetService<ILoggerFactory>()));
        return services;
    }
}
