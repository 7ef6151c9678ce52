using Microsoft.Extensions.Logging;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Grains.Silos;

namespace OrleansRooms.Grains.Recovery;

/// <summary>
/// Sends sequenced broadcasts (connection state recovery) to every other live silo: each silo's log needs every one of
/// a sender's broadcasts, in order, to keep what its disconnected sessions miss and to deliver to its gateway's sockets
/// with offsets that mean the same thing everywhere. A call that fails for a reason that passes is retried within the
/// bound; a silo that left the cluster needs nothing more; one that still could not take it is logged and left out.
/// </summary>
internal sealed partial class SequencedBroadcasts(
    RecoveryLogs logs,
    SiloServices silos,
    IClusterMembershipService membership,
    ILocalSiloDetails local,
    ClusterRetry retry,
    ILogger<SequencedBroadcasts> logger)
{
    /// <summary>
    /// Under <paramref name="log"/>'s lock (so that sends leave in sequence order): sends <paramref name="sequenced"/> to
    /// every other live silo; completes once each took it or left the cluster.
    /// </summary>
    public Task SendLocked(NamespaceLog log, ClusterMessage sequenced)
    {
        List<Task>? sends = null;
        foreach (var (silo, member) in membership.CurrentSnapshot.Members)
        {
            if ((member.Status is SiloStatus.Active or SiloStatus.ShuttingDown or SiloStatus.Stopping) && !silo.Equals(local.SiloAddress))
            {
                (sends ??= []).Add(SendAsync(silo, log.ForSiloLocked(sequenced, silo)));
            }
        }

        return sends is null ? Task.CompletedTask : Task.WhenAll(sends);
    }

    /// <summary>
    /// Publishes a broadcast from this silo (an emitter's): gives it this silo's next sequence number, delivers it to
    /// this silo's gateway if it is one, and sends it to every other silo.
    /// </summary>
    public Task PublishAsync(ClusterMessage message)
    {
        var log = logs.For(message.Namespace);
        lock (log.Lock)
        {
            var (sequenced, vector) = log.PublishLocked(message, local.SiloAddress);
            logs.Delivery?.Deliver(sequenced, vector);
            return SendLocked(log, sequenced);
        }
    }

    private async Task SendAsync(SiloAddress silo, ClusterMessage message)
    {
        try
        {
            await retry.RunAsync(static s => s.Service.RecordAsync(s.message), (Service: silos.On(silo), message), silo).ConfigureAwait(false);
        }
        catch (Exception ex) when (ClusterRetry.IsTransient(ex))
        {
            if (membership.CurrentSnapshot.GetSiloStatus(silo) is SiloStatus.Dead or SiloStatus.None)
            {
                return;
            }

            // As for any broadcast, a silo that cannot take it within the bound is left out: the broadcast reached every
            // live gateway that took it, and that silo, after waiting for it as long, makes the sessions it keeps for
            // recovery unrecoverable rather than replay them with a hole.
            Log.NotRecorded(logger, silo, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Silo {Silo} did not take a sequenced broadcast within the retry bound; the sockets disconnected meanwhile cannot be recovered.")]
        public static partial void NotRecorded(ILogger logger, SiloAddress silo, Exception exception);
    }
}
