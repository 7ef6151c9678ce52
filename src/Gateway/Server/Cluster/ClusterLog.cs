using Microsoft.Extensions.Logging;

namespace OrleansRooms.Cluster;

internal static partial class ClusterLog
{
    [LoggerMessage(101, LogLevel.Information, "Gateway {Gateway} left the cluster; {Changes} room changes of its sockets were released here.")]
    public static partial void GatewayReleased(ILogger logger, SiloAddress gateway, int changes);

    [LoggerMessage(102, LogLevel.Warning, "Releasing the sockets of dead gateway {Gateway} failed; another gateway will retry.")]
    public static partial void ReleaseFailed(ILogger logger, SiloAddress gateway, Exception exception);

    [LoggerMessage(103, LogLevel.Information, "Silo {Silo} left the cluster: re-publishing {Sockets} sockets of this gateway, whose grains may have been lost with it.")]
    public static partial void Republishing(ILogger logger, SiloAddress silo, int sockets);

    [LoggerMessage(104, LogLevel.Warning, "Re-publishing socket {SocketId} failed; it is retried when the next silo leaves.")]
    public static partial void RepublishFailed(ILogger logger, string socketId, Exception exception);
}
