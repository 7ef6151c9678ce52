using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Hosting;

namespace OrleansRooms.Silo.Tests.Hosting;

/// <summary>
/// docs/troubleshooting.md, "Why a second silo used to start on a taken silo port": an OrleansRooms silo does not share
/// its port, even with a listener that allows sharing as Orleans' own does (SO_REUSEADDR, with SO_REUSEPORT on Linux).
/// </summary>
public sealed class ExclusiveListenerPortsTests
{
    [Fact]
    public async Task A_silo_does_not_start_on_a_port_another_silo_listens_on()
    {
        using var other = new System.Net.Sockets.Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        other.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        other.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        other.Listen();
        var port = ((IPEndPoint)other.LocalEndPoint!).Port;
        var cluster = "test-" + Guid.NewGuid().ToString("N")[..12];
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(siloPort: port, gatewayPort: 0, serviceId: cluster, clusterId: cluster)
            .AddOrleansRooms());
        using var host = builder.Build();

        var error = await Record.ExceptionAsync(() => host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.NotNull(error);
        var inUse = Assert.Single(Chain(error), e => e is AddressInUseException);
        Assert.Contains($"port {port} on 127.0.0.1 is in use", inUse.Message, StringComparison.Ordinal);
    }

    private static IEnumerable<Exception> Chain(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Chain))
                {
                    yield return inner;
                }

                yield break;
            }
        }
    }
}
