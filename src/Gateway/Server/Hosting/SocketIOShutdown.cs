using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansRooms.Engine;

namespace OrleansRooms.Hosting;

/// <summary>
/// Closes every session when the host begins to stop, before Kestrel stops: Kestrel would otherwise wait for parked
/// polls and open WebSockets until its shutdown timeout, and clients would see a reset instead of a close packet.
/// </summary>
internal sealed class SocketIOShutdown(IServiceProvider services) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) =>
        services.GetService<EngineServer>() is { } engine ? engine.ShutdownAsync().WaitAsync(cancellationToken) : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
