using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansRooms.Engine;

namespace OrleansRooms.Hosting;

/// <summary>
/// Closes every session (of Socket.IO and of a stand-alone Engine.IO server) when the host begins to stop, before Kestrel stops: Kestrel would otherwise wait for parked
/// polls and open WebSockets until its shutdown timeout, and clients would see a reset instead of a close packet.
/// </summary>
internal sealed class SocketIOShutdown(IServiceProvider services) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.WhenAll(
            services.GetService<EngineServer>() is { } engine ? engine.ShutdownAsync() : Task.CompletedTask,
            services.GetService<EngineIOServer>() is { } engineIO ? engineIO.Engine.ShutdownAsync() : Task.CompletedTask)
        .WaitAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
