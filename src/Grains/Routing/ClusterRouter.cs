using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using OrleansRooms.Grains.Membership;
using OrleansRooms.Grains.Messages;

namespace OrleansRooms.Grains.Routing;

/// <summary>
/// Sends a message once to each gateway that hosts at least one socket it selects: the union of its rooms' gateways
/// (from the room grains, and the gateway a socket-id room names), or every live gateway for the whole namespace.
/// <c>Except</c> is left to the receivers, which apply it to their own sockets.
/// </summary>
internal sealed partial class ClusterRouter(IGrainFactory grains, GatewayDirectory directory, IGatewayDelivery delivery, ILogger<ClusterRouter> logger)
{
    /// <summary>The live gateways.</summary>
    public GatewayDirectory Directory => directory;

    /// <summary>
    /// Sends <paramref name="message"/> to the gateways hosting its selected sockets, except <paramref name="self"/>.
    /// Returns how many took it: gateways that are gone or refused are not counted (and logged), so a request waits for
    /// answers only from gateways that can give one.
    /// </summary>
    public async ValueTask<int> SendAsync(ClusterMessage message, SiloAddress? self)
    {
        var targets = await ResolveAsync(message.Namespace, message.Rooms, self).ConfigureAwait(false);
        switch (targets.Length)
        {
            case 0:
                return 0;
            case 1:
                return await TrySendAsync(targets[0], message).ConfigureAwait(false) ? 1 : 0;
        }

        var sends = new Task<bool>[targets.Length];
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

    /// <summary>Sends <paramref name="message"/> to one gateway (an answer to its request); false when it cannot take it.</summary>
    public async Task<bool> TrySendAsync(SiloAddress gateway, ClusterMessage message)
    {
        try
        {
            await delivery.SendAsync(gateway, message).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.DeliveryFailed(logger, message.Type, gateway, ex);
            return false;
        }
    }

    /// <summary>The gateways hosting a socket in any of <paramref name="rooms"/> (every live gateway when empty), without <paramref name="self"/>.</summary>
    public async ValueTask<ImmutableArray<SiloAddress>> ResolveAsync(string ns, ImmutableArray<string> rooms, SiloAddress? self)
    {
        // A lone gateway asks no room grain: a grain call per broadcast cost a single node a quarter of its rate in small rooms.
        var others = Without(directory.Gateways, self);
        if (rooms.IsDefaultOrEmpty || others.IsEmpty)
        {
            return others;
        }

        if (rooms.Length == 1)
        {
            var gateways = await Room(ns, rooms[0]).GetGatewaysAsync().ConfigureAwait(false);
            return directory.FindHost(rooms[0]) is { } host && !gateways.Contains(host)
                ? Without(gateways.Add(host), self)
                : Without(gateways, self);
        }

        var lookups = new Task<ImmutableArray<SiloAddress>>[rooms.Length];
        for (var i = 0; i < lookups.Length; i++)
        {
            lookups[i] = Room(ns, rooms[i]).GetGatewaysAsync();
        }

        // Gateways are few: a list with Contains beats a set here.
        var union = new List<SiloAddress>();
        for (var i = 0; i < lookups.Length; i++)
        {
            foreach (var gateway in await lookups[i].ConfigureAwait(false))
            {
                AddOnce(union, gateway, self);
            }

            if (directory.FindHost(rooms[i]) is { } host)
            {
                AddOnce(union, host, self);
            }
        }

        return [.. union];
    }

    private IRoomGrain Room(string ns, string room) => grains.GetGrain<IRoomGrain>(GrainKeys.Of(ns, room));

    private static void AddOnce(List<SiloAddress> union, SiloAddress gateway, SiloAddress? self)
    {
        if (!gateway.Equals(self) && !union.Contains(gateway))
        {
            union.Add(gateway);
        }
    }

    private static ImmutableArray<SiloAddress> Without(ImmutableArray<SiloAddress> gateways, SiloAddress? self) =>
        self is not null && gateways.Contains(self) ? gateways.Remove(self) : gateways;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Could not deliver a {Type} message to gateway {Gateway}; it counts as reaching no socket.")]
        public static partial void DeliveryFailed(ILogger logger, ClusterMessageType type, SiloAddress gateway, Exception exception);
    }
}
