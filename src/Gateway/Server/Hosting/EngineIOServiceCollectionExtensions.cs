using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansRooms.Engine;
using OrleansRooms.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers an Engine.IO server on its own.</summary>
public static class EngineIOServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="EngineIOServer"/> as a singleton, with <see cref="EngineIOOptions"/> bound from the
    /// <c>EngineIO</c> configuration section, then <paramref name="configure"/>, validated at start-up. Sessions are
    /// closed with <c>server shutting down</c> when the host stops. Map the endpoint with <c>MapEngineIO</c>.
    /// </summary>
    public static IServiceCollection AddEngineIO(this IServiceCollection services, Action<EngineIOOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<EngineIOOptions>()
            .BindConfiguration("EngineIO")
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.AddMetrics();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EngineIOOptions>, EngineIOOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new EngineIOServer(
            sp.GetRequiredService<IOptions<EngineIOOptions>>().Value,
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SocketIOShutdown>());
        return services;
    }
}
