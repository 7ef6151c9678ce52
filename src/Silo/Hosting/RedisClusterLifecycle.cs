using Microsoft.Extensions.Hosting;
using OrleansRooms.Silo.Grains;

namespace OrleansRooms.Silo.Hosting;

/// <summary>
/// Joins the cluster before the server accepts connections (<see cref="StartingAsync"/> runs before every hosted
/// service's start, Kestrel's included) and leaves it in <see cref="StopAsync"/>, which runs after every service's
/// <c>StoppingAsync</c>: the gateway has closed its sessions by then, so the clean stop removes what is left at once.
/// </summary>
internal sealed class RedisClusterLifecycle(RedisRoomGrainFactory gateway) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => gateway.StartAsync(cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => gateway.StopAsync(cancellationToken);

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
