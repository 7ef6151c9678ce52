using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.Services;
using OrleansRooms.Grains.Rooms;
using OrleansRooms.Grains.Routing;
using OrleansRooms.Grains.Sessions;

namespace OrleansRooms.Grains.Silos;

/// <summary>This silo's <see cref="ISiloService"/>: answers from its session registry and its route caches, without waiting on anything.</summary>
internal sealed class SiloService(GrainId id, Silo silo, ILoggerFactory loggerFactory, SessionRegistry sessions, RouteCaches routes, Recovery.RecoveryLogs recovery, IGrainFactory grains)
    : GrainService(id, silo, loggerFactory), ISiloService
{
    public Task<RoomShard> DescribeRoomAsync(string ns, string room) =>
        Task.FromResult(new RoomShard(sessions.MembersOf(ns, room), routes.FollowedVersion(ns, room)));

    public Task RecordAsync(Messages.ClusterMessage message)
    {
        if (recovery.Enabled && message.Origin is not null && message.Sequence > 0)
        {
            recovery.Accept(message);
        }

        return Task.CompletedTask;
    }

    public Task ApplyToSuspendedAsync(Messages.ClusterMessage message)
    {
        if (recovery.Find(message.Namespace) is not { } log)
        {
            return Task.CompletedTask;
        }

        var ids = log.SuspendedIn(message.Rooms, message.Except);
        var changes = new Task[ids.Count];
        for (var i = 0; i < changes.Length; i++)
        {
            changes[i] = grains.GetGrain<Sessions.ISocketGrain>(Naming.GrainKeys.Of(message.Namespace, ids[i])).ChangeWhileSuspendedAsync(message.Type, message.TargetRooms);
        }

        return Task.WhenAll(changes);
    }

    public Task RouteChangedAsync(string ns, string room, RoomRoute route)
    {
        routes.OnRouteChanged(ns, room, route);
        return Task.CompletedTask;
    }

    public Task<NamespaceCount> CountAsync(string ns)
    {
        var (sockets, rooms) = sessions.Count(ns);
        return Task.FromResult(new NamespaceCount(sockets, rooms));
    }

    public Task<ImmutableArray<string>> GetSocketIdsAsync(string ns, int part, int parts) => Task.FromResult(sessions.SocketIds(ns, part, parts));

    public Task<ImmutableArray<string>> GetRoomNamesAsync(string ns, int part, int parts) => Task.FromResult(sessions.RoomNames(ns, part, parts));
}

/// <summary>References to the <see cref="ISiloService"/> of any silo.</summary>
internal sealed class SiloServices(IServiceProvider services) : GrainServiceClient<ISiloService>(services)
{
    /// <summary>The service of <paramref name="silo"/>.</summary>
    public ISiloService On(SiloAddress silo) => GetGrainService(silo);
}
