using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansRooms.Grains.Gateways;

namespace OrleansRooms.Cluster;

/// <summary>
/// Watches Orleans membership. When a silo dies: re-publishes this gateway's own sockets, since room grains and copies
/// that lived on that silo are gone; then, if it was a gateway, takes its sockets out of their rooms cluster-wide (the
/// dead gateway's copy releases them once, for whichever gateway asks first, which raises the room events).
/// </summary>
internal sealed class GatewayFailover(IClusterMembershipService membership, SocketIOServer server, ILogger<GatewayFailover> logger) : BackgroundService
{
    // Socket grains re-publishing at once at most: enough to keep the cluster busy, few enough not to flood it.
    private const int RepublishConcurrency = 64;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var cluster = server.Cluster;
        // Dead silos seen so far; null until the first snapshot, whose dead silos are not this gateway's to release:
        // their copies went with the cluster that knew them.
        HashSet<SiloAddress>? dead = null;
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken).ConfigureAwait(false))
            {
                var first = dead is null;
                dead ??= [];
                dead.RemoveWhere(silo => !snapshot.Members.ContainsKey(silo));
                List<SiloAddress>? left = null;
                foreach (var (silo, member) in snapshot.Members)
                {
                    if (member.Status == SiloStatus.Dead && dead.Add(silo) && !first && !silo.Equals(cluster.Self))
                    {
                        (left ??= []).Add(silo);
                    }
                }

                if (left is null)
                {
                    continue;
                }

                await RepublishAsync(left[0], stoppingToken).ConfigureAwait(false);
                foreach (var silo in left)
                {
                    await ReleaseAsync(cluster, silo).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ReleaseAsync(GatewayCluster cluster, SiloAddress gateway)
    {
        GatewayRelease release;
        try
        {
            release = await cluster.SocketsOf(gateway).ReleaseAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ClusterLog.ReleaseFailed(logger, gateway, ex);
            return;
        }

        if (release.Changes.IsEmpty)
        {
            return;
        }

        foreach (var change in release.Changes)
        {
            server.FindNamespace(change.Namespace)?.Adapter.RaiseReleased(change);
        }

        server.Metrics.Released();
        ClusterLog.GatewayReleased(logger, gateway, release.Changes.Length);
    }

    private async Task RepublishAsync(SiloAddress silo, CancellationToken cancellationToken)
    {
        var sockets = server.LocalSockets();
        ClusterLog.Republishing(logger, silo, sockets.Count);
        await Parallel.ForEachAsync(sockets, new ParallelOptions { MaxDegreeOfParallelism = RepublishConcurrency, CancellationToken = cancellationToken }, async (socket, _) =>
        {
            try
            {
                await socket.RepublishAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                ClusterLog.RepublishFailed(logger, socket.Id, ex);
            }
        }).ConfigureAwait(false);
        server.Metrics.Republished();
    }
}
