using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OrleansRooms.Silo.Emitter;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a <see cref="SocketIOEmitter"/> for processes that send to the sockets of an OrleansRooms cluster.</summary>
public static class SocketIOEmitterServiceCollectionExtensions
{
    /// <summary>
    /// Adds a singleton <see cref="SocketIOEmitter"/> on the process's Orleans client (<c>UseOrleansClient</c>) or silo,
    /// with its options from <paramref name="configure"/>.
    /// </summary>
    public static IServiceCollection AddSocketIOEmitter(this IServiceCollection services, Action<SocketIOEmitterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<SocketIOEmitterOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton(sp => new SocketIOEmitter(
            sp.GetRequiredService<IGrainFactory>(),
            sp.GetRequiredService<IOptions<SocketIOEmitterOptions>>().Value));
        return services;
    }
}
