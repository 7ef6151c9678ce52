using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OrleansRooms.Admin;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the server side of the Socket.IO Admin UI.</summary>
public static class AdminUIServiceCollectionExtensions
{
    /// <summary>
    /// Instruments the Socket.IO server for the Socket.IO Admin UI (<c>instrument(io, options)</c> of
    /// <c>@socket.io/admin-ui</c>) when the host starts: the admin namespace (<see cref="AdminUIOptions.NamespaceName"/>,
    /// default <c>/admin</c>) with its authentication, this gateway's statistics for the UI, and the operations the UI
    /// offers, carried out on the whole cluster. Options are bound from the <c>SocketIO:AdminUI</c> configuration section,
    /// then <paramref name="configure"/>, and validated at start-up: <see cref="AdminUIAuthOptions.Type"/> must be set.
    /// Call after <c>AddSocketIO</c>; see docs/admin-ui.md.
    /// </summary>
    public static IServiceCollection AddSocketIOAdminUI(this IServiceCollection services, Action<AdminUIOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<AdminUIOptions>()
            .BindConfiguration(AdminUIOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AdminUIOptions>, AdminUIOptionsValidator>());
        // Session ids are sealed with Data Protection: gateways that share a key ring accept each other's.
        services.AddDataProtection();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, AdminInstrumentation>());
        return services;
    }
}
