using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using OrleansRooms.Grains.Gateways;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Grains.Rooms;

namespace OrleansRooms.Grains.Routing;

/// <summary>
/// Finds the gateways a message must reach and sends it once to each. A message to rooms goes to the gateways hosting
/// their members, read from this silo's route cache (<see cref="RouteCaches"/>): no grain call in the steady state, one
/// lookup the first time a room is used. A message to the whole namespace goes to every live gateway. When a room's
/// route cannot be read (its grain is on a silo that is dying), the message goes to every live gateway, each of which
/// filters with its own table: a fault costs messages, never a member on a live gateway. For the same reason an active
/// silo whose grain manifest this silo has not received yet counts as a gateway (<see cref="GatewayDirectory.Candidates"/>).
/// <c>Except</c> is left to the receivers.
/// </summary>
internal sealed partial class ClusterRouter(GatewayDirectory directory, RouteCaches routes, IGatewayDelivery delivery, ILogger<ClusterRouter> logger)
{
    /// <summary>The live gateways.</summary>
    public GatewayDirectory Directory => directory;

    /// <summary>
    /// Adds to <paramref name="targets"/> the live gateways other than <paramref name="self"/> that host a socket in
    /// one of <paramref name="rooms"/> (all of them for none), when every room's route is cached; false when one is not.
    /// </summary>
    public bool TryResolve(string ns, IReadOnlyList<string> rooms, SiloAddress? self, List<SiloAddress> targets)
    {
        var live = directory.Candidates;
        if (rooms.Count == 0 || live.Length == 0 || (live.Length == 1 && live[0].Equals(self)))
        {
            AddLive(live, self, targets);
            return true;
        }

        if (!routes.For(ns).TryResolve(rooms, targets))
        {
            targets.Clear();
            return false;
        }

        // Cached routes may name gateways that just left; and this gateway delivers its own sockets itself.
        for (var i = targets.Count - 1; i >= 0; i--)
        {
            if (targets[i].Equals(self) || !live.Contains(targets[i]))
            {
                targets.RemoveAt(i);
            }
        }

        return true;
    }

    /// <summary>Like <see cref="TryResolve"/>, looking up the rooms that are not cached; every live gateway when one cannot be.</summary>
    public async Task<List<SiloAddress>> ResolveAsync(string ns, IReadOnlyList<string> rooms, SiloAddress? self)
    {
        var targets = new List<SiloAddress>();
        if (TryResolve(ns, rooms, self, targets))
        {
            return targets;
        }

        var cache = routes.For(ns);
        var lookups = new Task<RoomRoute>[rooms.Count];
        for (var i = 0; i < lookups.Length; i++)
        {
            lookups[i] = cache.LoadAsync(rooms[i]);
        }

        try
        {
            await Task.WhenAll(lookups).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.RouteUnknown(logger, ex);
            AddLive(directory.Candidates, self, targets);
            return targets;
        }

        var live = directory.Candidates;
        foreach (var lookup in lookups)
        {
            foreach (var gateway in lookup.Result.Gateways)
            {
                if (!gateway.Equals(self) && live.Contains(gateway) && !targets.Contains(gateway))
                {
                    targets.Add(gateway);
                }
            }
        }

        return targets;
    }

    /// <summary>
    /// Sends a broadcast to each of <paramref name="targets"/>; returns how many took it. A gateway that could not take it
    /// is left out (and logged): it is leaving the cluster, or the call's outcome is unknown, and a second try could
    /// deliver the broadcast twice.
    /// </summary>
    public async Task<int> BroadcastAsync(IReadOnlyList<SiloAddress> targets, ClusterMessage message)
    {
        switch (targets.Count)
        {
            case 0:
                return 0;
            case 1:
                return await TrySendAsync(targets[0], message).ConfigureAwait(false) ? 1 : 0;
        }

        var sends = new Task<bool>[targets.Count];
        for (var i = 0; i < sends.Length; i++)
        {
            sends[i] = TrySendAsync(targets[i], message);
        }

        var sent = 0;
        foreach (var send in sends)
        {
            sent += await send.ConfigureAwait(false) ? 1 : 0;
        }

        return sent;
    }

    private async Task<bool> TrySendAsync(SiloAddress gateway, ClusterMessage message)
    {
        try
        {
            await delivery.SendAsync(gateway, message).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex)
        {
            if (directory.Gateways.Contains(gateway))
            {
                Log.DeliveryFailed(logger, gateway, ex);
            }
            else
            {
                Log.GatewayLeft(logger, gateway);
            }

            return false;
        }
    }

    private static void AddLive(ImmutableArray<SiloAddress> live, SiloAddress? self, List<SiloAddress> targets)
    {
        foreach (var gateway in live)
        {
            if (!gateway.Equals(self))
            {
                targets.Add(gateway);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Gateway {Gateway} did not take a broadcast; its sockets may have missed it.")]
        public static partial void DeliveryFailed(ILogger logger, SiloAddress gateway, Exception exception);

        [LoggerMessage(2, LogLevel.Debug, "Silo {Gateway} did not take a broadcast: it left the cluster, or is no gateway.")]
        public static partial void GatewayLeft(ILogger logger, SiloAddress gateway);

        [LoggerMessage(3, LogLevel.Debug, "A room's route could not be looked up; the message goes to every live gateway.")]
        public static partial void RouteUnknown(ILogger logger, Exception exception);
    }
}
