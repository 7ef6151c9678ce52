using System.Collections.Immutable;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansRooms.Grains.Gateways;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Grains.Rooms;
using OrleansRooms.Grains.Routing;
using OrleansRooms.Grains.Sessions;

namespace OrleansRooms.Grains.Silos;

/// <summary>
/// On each silo: when membership declares a silo dead, releases what this silo held of it, and nothing else. The
/// sessions here whose socket was on that gateway end (their rooms drop that gateway's members themselves), and the
/// rooms here with members on it drop them. The room events of those sockets go to one live gateway (the same on every
/// silo), which raises them once for the cluster: each session reports its socket leaving its rooms, each room that
/// was left empty reports its deletion (<see cref="IGatewayService.RaiseReleasedAsync"/>). The work is what the dead
/// silo's sockets were in, spread over the silos that hold it.
/// </summary>
internal sealed partial class ClusterLossHandler(
    IClusterMembershipService membership,
    ILocalSiloDetails local,
    SessionRegistry sessions,
    RoomRegistry rooms,
    GatewayDirectory directory,
    GatewayServices gateways,
    ClusterRetry retry,
    Recovery.RecoveryLogs recovery,
    ILogger<ClusterLossHandler> logger) : BackgroundService
{
    // Grains released at once at most: a dead gateway may have had sockets in thousands of rooms.
    private const int Concurrency = 64;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var seen = new HashSet<SiloAddress>();
        var first = true;
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken).ConfigureAwait(false))
            {
                foreach (var (silo, member) in snapshot.Members)
                {
                    if (member.Status != SiloStatus.Dead || silo.Equals(local.SiloAddress) || !seen.Add(silo))
                    {
                        continue;
                    }

                    if (first)
                    {
                        // Dead before this silo joined: nothing here is theirs, but nothing may become theirs either.
                        sessions.Lose(silo);
                        rooms.Lose(silo);
                    }
                    else
                    {
                        _ = ReleaseAsync(silo, stoppingToken);
                    }

                    if (recovery.Enabled)
                    {
                        recovery.OnSiloLeft(silo);
                    }
                }

                first = false;
                seen.RemoveWhere(silo => !snapshot.Members.ContainsKey(silo));
                sessions.Prune(snapshot.Members.ContainsKey);
                rooms.Prune(snapshot.Members.ContainsKey);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ReleaseAsync(SiloAddress dead, CancellationToken stoppingToken)
    {
        try
        {
            var targets = new HashSet<IAddressable>(ReferenceEqualityComparer.Instance);
            var ended = sessions.Lose(dead);
            targets.UnionWith(ended);
            var held = rooms.Lose(dead);
            targets.UnionWith(held);

            var events = new List<RoomEvent>();
            await Parallel.ForEachAsync(targets, new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = stoppingToken }, async (grain, _) =>
            {
                var reported = await retry.RunAsync(static s => s.grain.AsReference<IRoomMembers>().OnGatewayLostAsync(s.dead), (grain, dead)).ConfigureAwait(false);
                if (!reported.IsEmpty)
                {
                    lock (events)
                    {
                        events.AddRange(reported);
                    }
                }
            }).ConfigureAwait(false);

            Log.Released(logger, dead, ended.Count, held.Count);
            if (events.Count > 0 && Reporter() is { } gateway)
            {
                await retry.RunAsync(static s => s.Service.RaiseReleasedAsync(s.Events), (Service: gateways.On(gateway), Events: events.ToImmutableArray()), gateway).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Log.ReleaseFailed(logger, dead, ex);
        }
    }

    // The gateway that raises a dead gateway's room events: the lowest live one, so every silo picks the same.
    private SiloAddress? Reporter()
    {
        SiloAddress? lowest = null;
        foreach (var gateway in directory.Gateways)
        {
            if (lowest is null || gateway.CompareTo(lowest) < 0)
            {
                lowest = gateway;
            }
        }

        return lowest;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Silo {Silo} left the cluster; this silo released its {Sessions} sessions and its members of {Rooms} rooms.")]
        public static partial void Released(ILogger logger, SiloAddress silo, int sessions, int rooms);

        [LoggerMessage(2, LogLevel.Error, "Releasing what this silo held of dead silo {Silo} failed.")]
        public static partial void ReleaseFailed(ILogger logger, SiloAddress silo, Exception exception);
    }
}
