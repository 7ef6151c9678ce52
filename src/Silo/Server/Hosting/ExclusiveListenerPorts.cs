using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;

namespace Orleans.Hosting;

/// <summary>
/// Keeps a silo from sharing its silo or gateway port with another process. Orleans' socket listener sets
/// SocketOptionName.ReuseAddress, which .NET on Linux turns into SO_REUSEADDR and SO_REUSEPORT: a second silo on the same
/// port then binds too, and the kernel splits the connections between the two. Each of Orleans' listener factories is
/// wrapped so that a bind first checks, without SO_REUSEPORT, that nobody listens on the port.
/// </summary>
internal static class ExclusiveListenerPorts
{
    internal static void Configure(IServiceCollection services)
    {
        for (var i = 0; i < services.Count; i++)
        {
            var descriptor = services[i];
            if (descriptor.ServiceType == typeof(IConnectionListenerFactory) && descriptor.IsKeyedService)
            {
                services[i] = new ServiceDescriptor(
                    typeof(IConnectionListenerFactory),
                    descriptor.ServiceKey,
                    (sp, key) => new ExclusiveListenerFactory(CreateInner(descriptor, sp, key)),
                    descriptor.Lifetime);
            }
        }
    }

    private static IConnectionListenerFactory CreateInner(ServiceDescriptor descriptor, IServiceProvider services, object? key) =>
        (IConnectionListenerFactory)(descriptor.KeyedImplementationInstance
            ?? descriptor.KeyedImplementationFactory?.Invoke(services, key)
            ?? ActivatorUtilities.CreateInstance(services, descriptor.KeyedImplementationType!));

    private sealed class ExclusiveListenerFactory(IConnectionListenerFactory inner) : IConnectionListenerFactory
    {
        public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
        {
            // Other bind errors are left to Orleans' own bind, which meets them too.
            if (endpoint is IPEndPoint { Port: > 0 } ip && PortProbe.TryBind(ip) == System.Net.Sockets.SocketError.AddressAlreadyInUse)
            {
                throw new AddressInUseException($"Orleans port {ip.Port} on {ip.Address} is in use by another process");
            }

            return inner.BindAsync(endpoint, cancellationToken);
        }
    }
}
