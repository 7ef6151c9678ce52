using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using OrleansRooms.Grains.Rooms;
using OrleansRooms.Grains.Silos;

namespace OrleansRooms.Grains.Routing;

/// <summary>
/// Pushes a room's new route to the silos whose caches follow it. A push is retried until the silo took it or left the
/// cluster (a silo that stays unreachable is declared dead by membership, and stops): a follower's cache never keeps a
/// stale route silently. The caller waits for the pushes within <see cref="Hosting.RoomsClusterOptions.RetryTimeout"/>;
/// past it they go on in the background.
/// </summary>
internal sealed partial class RoutePublisher(
    SiloServices silos,
    RouteCaches caches,
    ILocalSiloDetails local,
    IClusterMembershipService membership,
    ClusterRetry retry,
    ILogger<RoutePublisher> logger)
{
    /// <summary>Pushes <paramref name="route"/> of room <paramref name="room"/> to <paramref name="followers"/>; completes when each took it or is gone.</summary>
    public Task PushAsync(string ns, string room, RoomRoute route, ImmutableArray<SiloAddress> followers)
    {
        if (followers.IsEmpty)
        {
            return Task.CompletedTask;
        }

        if (followers.Length == 1 && followers[0].Equals(local.SiloAddress))
        {
            caches.OnRouteChanged(ns, room, route);
            return Task.CompletedTask;
        }

        var pushes = new Task[followers.Length];
        for (var i = 0; i < pushes.Length; i++)
        {
            pushes[i] = PushAsync(ns, room, route, followers[i]);
        }

        return Task.WhenAll(pushes);
    }

    private async Task PushAsync(string ns, string room, RoomRoute route, SiloAddress follower)
    {
        if (follower.Equals(local.SiloAddress))
        {
            caches.OnRouteChanged(ns, room, route);
            return;
        }

        try
        {
            await retry.RunAsync(static s => s.Service.RouteChangedAsync(s.ns, s.room, s.route), (Service: silos.On(follower), ns, room, route), follower).ConfigureAwait(false);
        }
        catch (Exception ex) when (ClusterRetry.IsTransient(ex))
        {
            if (membership.CurrentSnapshot.GetSiloStatus(follower) is SiloStatus.Dead or SiloStatus.None)
            {
                return;
            }

            Log.PushDelayed(logger, follower, ex);
            _ = KeepPushingAsync(ns, room, route, follower);
        }
    }

    private async Task KeepPushingAsync(string ns, string room, RoomRoute route, SiloAddress follower)
    {
        while (membership.CurrentSnapshot.GetSiloStatus(follower) is not (SiloStatus.Dead or SiloStatus.None))
        {
            try
            {
                await retry.RunAsync(static s => s.Service.RouteChangedAsync(s.ns, s.room, s.route), (Service: silos.On(follower), ns, room, route), follower).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ClusterRetry.IsTransient(ex))
            {
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Silo {Silo} did not take a room's new route in time; it is pushed again until it does or leaves the cluster.")]
        public static partial void PushDelayed(ILogger logger, SiloAddress silo, Exception exception);
    }
}
