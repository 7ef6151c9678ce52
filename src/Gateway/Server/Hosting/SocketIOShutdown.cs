using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansRooms.Cluster;
using OrleansRooms.Engine;

namespace OrleansRooms.Hosting;

/// <summary>
/// Closes every session (of Socket.IO and of a stand-alone Engine.IO server) when the host begins to stop, before Kestrel
/// stops: Kestrel would otherwise wait for parked polls and open WebSockets until its shutdown timeout, and clients would
/// see a reset instead of a close packet. The sockets leave their rooms cluster-wide as they close, while the co-hosted
/// silo still runs. A stop that is already cancelled (forced) detaches the gateway from the cluster instead, as a crash would.
/// </summary>
internal sealed class SocketIOShutdown(IServiceProvider services) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            services.GetService<GatewayCluster>()?.Detach();
            return;
        }

        await Task.WhenAll(
                services.GetService<EngineServer>() is { } engine ? engine.ShutdownAsync() : Task.CompletedTask,
                services.GetService<EngineIOServer>() is { } engineIO ? engineIO.Engine.ShutdownAsync() : Task.CompletedTask)
            .WaitAsync(cancellationToken).ConfigureAwait(false);

        if (services.GetService<SocketIOServer>() is { } server)
        {
            await server.WhenClientsClosedAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
