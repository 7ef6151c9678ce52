using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansRooms.Engine;

namespace OrleansRooms.Hosting;

/// <summary>Closes every session when the host stops, so clients see <c>server shutting down</c> rather than a dropped connection.</summary>
internal sealed class SocketIOShutdown(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) =>
        services.GetService<EngineServer>() is { } engine ? engine.ShutdownAsync().WaitAsync(cancellationToken) : Task.CompletedTask;
}
