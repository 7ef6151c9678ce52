using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace OrleansRooms.Silo.Compatibility;

/// <summary>Registers the listener of the official emitter's channels (it runs on gateways only, when a Redis is configured).</summary>
internal static class RedisEmitterServices
{
    public static IServiceCollection AddRedisEmitterListener(this IServiceCollection services, IConfiguration configuration)
    {
        var builder = services.AddOptions<RedisEmitterOptions>();
        // The cluster's Redis by default; the section, bound after, overrides it.
        if (DefaultRedis(configuration) is { } clusterRedis)
        {
            builder.Configure(options => options.Redis = clusterRedis);
        }

        builder.BindConfiguration(RedisEmitterOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisEmitterOptions>, RedisEmitterOptionsValidator>());
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<EmitterMetrics>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RedisEmitterListener>());
        return services;
    }

    /// <summary>The membership store's Redis when Orleans clusters on Redis (<c>Orleans:Clustering:ProviderType</c> <c>Redis</c>).</summary>
    private static string? DefaultRedis(IConfiguration configuration)
    {
        var clustering = configuration.GetSection("Orleans:Clustering");
        if (!string.Equals(clustering["ProviderType"], "Redis", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return clustering["ConnectionString"] is { Length: > 0 } connectionString
            ? connectionString
            : clustering["ConnectionName"] is { Length: > 0 } name ? configuration.GetConnectionString(name) : null;
    }
}
