using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;

namespace OrleansRooms.Specification;

/// <summary>
/// The co-hosted Orleans silo every gateway needs, for tests that start one gateway: alone on localhost clustering,
/// with its own free port and cluster id, so gateways of parallel tests never meet.
/// </summary>
public static class TestSilo
{
    /// <summary>Co-hosts a silo of its own in <paramref name="builder"/>'s host.</summary>
    public static T UseTestSilo<T>(this T builder) where T : IHostApplicationBuilder
    {
        var cluster = "test-" + Guid.NewGuid().ToString("N")[..12];
        builder.UseOrleans(silo => silo.UseLocalhostClustering(siloPort: FreePort(), gatewayPort: 0, serviceId: cluster, clusterId: cluster));
        return builder;
    }

    /// <summary>A loopback port free right now (the OS picks it).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
