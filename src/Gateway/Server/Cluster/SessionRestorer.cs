using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace OrleansRooms.Cluster;

/// <summary>
/// Watches Orleans membership: when a silo dies, restores the sessions it held of this gateway's sockets from this
/// gateway's table (which holds what they had accepted). Only those sockets, each through its own queue so the restore
/// takes its place among the socket's changes: the repair is what was lost, not a rewrite of every socket.
/// </summary>
internal sealed class SessionRestorer(IClusterMembershipService membership, SocketIOServer server, ILogger<SessionRestorer> logger) : BackgroundService
{
    // Sessions restored at once at most.
    private const int Concurrency = 64;

    // Short: a session that could not be restored leaves its socket out of its rooms until it is. Only sockets whose
    // restore failed are tried again, and only while the cluster is changing.
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var self = server.Cluster.Self;
        server.Cluster.SessionLost = socket => _ = RestoreOneAsync(socket, stoppingToken);
        HashSet<SiloAddress>? dead = null;
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken).ConfigureAwait(false))
            {
                var first = dead is null;
                dead ??= [];
                dead.RemoveWhere(silo => !snapshot.Members.ContainsKey(silo));
                foreach (var (silo, member) in snapshot.Members)
                {
                    if (member.Status == SiloStatus.Dead && dead.Add(silo) && !first && !silo.Equals(self))
                    {
                        await RestoreAsync(silo, stoppingToken).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RestoreAsync(SiloAddress silo, CancellationToken cancellationToken)
    {
        var lost = server.LocalSockets().FindAll(socket => silo.Equals(socket.SessionSilo));
        if (lost.Count == 0)
        {
            return;
        }

        ClusterLog.Restoring(logger, silo, lost.Count);
        await Parallel.ForEachAsync(lost, new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = cancellationToken }, async (socket, token) =>
        {
            try
            {
                await socket.RestoreSessionAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (!token.IsCancellationRequested)
            {
                // The cluster is still changing (another silo dying, a room that cannot be rebuilt yet): tried again.
                ClusterLog.RestoreFailed(logger, socket.Id, ex);
                _ = RestoreLaterAsync(socket, cancellationToken);
            }
        }).ConfigureAwait(false);
        server.Metrics.SessionsRestored(lost.Count);
    }

    private async Task RestoreOneAsync(Socket socket, CancellationToken cancellationToken)
    {
        try
        {
            await socket.RestoreSessionAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            ClusterLog.RestoreFailed(logger, socket.Id, ex);
            await RestoreLaterAsync(socket, cancellationToken).ConfigureAwait(false);
        }
    }

    // Again with growing pauses until the session is restored, the socket is gone or the gateway stops: a socket whose
    // session is lost must not wait for its next change to be in its rooms again.
    private async Task RestoreLaterAsync(Socket socket, CancellationToken cancellationToken)
    {
        var pause = TimeSpan.FromMilliseconds(500);
        try
        {
            while (socket.Connected && !server.Cluster.IsDetached)
            {
                await Task.Delay(pause, server.TimeProvider, cancellationToken).ConfigureAwait(false);
                try
                {
                    await socket.RestoreSessionAsync().ConfigureAwait(false);
                    return;
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    pause = pause * 2 > LongestPause ? LongestPause : pause * 2;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
