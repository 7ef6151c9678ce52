using Microsoft.Extensions.Logging;

namespace OrleansRooms.Cluster;

internal static partial class ClusterLog
{
    [LoggerMessage(101, LogLevel.Information, "Silo {Silo} left the cluster with the sessions of {Sockets} sockets of this gateway; restoring them.")]
    public static partial void Restoring(ILogger logger, SiloAddress silo, int sockets);

    [LoggerMessage(102, LogLevel.Warning, "The session of socket {SocketId} could not be restored yet; it is tried again until it is.")]
    public static partial void RestoreFailed(ILogger logger, string socketId, Exception exception);

    [LoggerMessage(103, LogLevel.Warning, "The session of closed socket {SocketId} could not leave its rooms yet; it is tried again until it does.")]
    public static partial void EndDelayed(ILogger logger, string socketId, Exception exception);

    [LoggerMessage(104, LogLevel.Information, "The session of closed socket {SocketId} has left its rooms.")]
    public static partial void Ended(ILogger logger, string socketId);
}
