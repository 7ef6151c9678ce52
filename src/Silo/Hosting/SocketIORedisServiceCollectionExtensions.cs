using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansRooms.Grains;
using OrleansRooms.Silo;
using OrleansRooms.Silo.Grains;
using OrleansRooms.Silo.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Redis cluster engine.</summary>
public static class SocketIORedisServiceCollectionExtensions
{
    /// <summary>
    /// Makes this gateway one of many sharing rooms through Redis: replaces the in-process room grains with the Redis
    /// ones (before or after <c>AddSocketIO</c>), binds <see cref="RedisClusterOptions"/> from <c>SocketIO:Redis</c>
    /// (validated at start-up), connects at start (start-up fails if Redis is unreachable), leaves the cluster cleanly
    /// at shutdown, and adds the <c>orleansrooms-cluster</c> health check and the <c>OrleansRooms.Cluster</c> meter.
    /// </summary>
    public static IServiceCollection AddSocketIORedis(this IServiceCollection services, Action<RedisClusterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<RedisClusterOptions>()
            .BindConfiguration(RedisClusterOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        // Called twice, it must not register the health check twice (duplicate names fail at run time).
        bool first = !services.Any(d => d.ImplementationType == typeof(RedisClusterLifecycle));
        services.AddMetrics();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisClusterOptions>, RedisClusterOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new ClusterMetrics(sp.GetService<IMeterFactory>()));
        services.TryAddSingleton(sp => new RedisRoomGrainFactory(
            sp.GetRequiredService<IOptions<RedisClusterOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<ClusterMetrics>()));
        services.RemoveAll<IRoomGrainFactory>();
        services.AddSingleton<IRoomGrainFactory>(sp => sp.GetRequiredService<RedisRoomGrainFactory>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RedisClusterLifecycle>());
        if (first)
        {
            services.AddHealthChecks().AddCheck<RedisClusterHealthCheck>(RedisClusterHealthCheck.Name);
        }

        return services;
    }
}
