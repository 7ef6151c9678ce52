using Microsoft.Extensions.Logging;

namespace OrleansRooms.Silo.Hosting;

internal static partial class ClusterLog
{
    [LoggerMessage(101, LogLevel.Information, "Gateway {GatewayId} joined the Redis cluster engine ({Mode}).")]
    public static partial void Started(ILogger logger, string gatewayId, string mode);

    [LoggerMessage(102, LogLevel.Information, "Gateway {GatewayId} left the cluster: {Sockets} sockets removed from their rooms.")]
    public static partial void Stopped(ILogger logger, string gatewayId, int sockets);

    [LoggerMessage(103, LogLevel.Warning, "Cluster operation {Operation} failed.")]
    public static partial void OperationFailed(ILogger logger, string operation, Exception exception);

    [LoggerMessage(104, LogLevel.Warning, "Reaped dead gateway {DeadGatewayId}: {Sockets} sockets removed from their rooms.")]
    public static partial void Reaped(ILogger logger, string deadGatewayId, int sockets);

    [LoggerMessage(105, LogLevel.Information, "Re-published the state of gateway {GatewayId} ({Reason}): {Sockets} sockets, {Stale} stale entries removed.")]
    public static partial void Republished(ILogger logger, string gatewayId, string reason, int sockets, int stale);

    [LoggerMessage(106, LogLevel.Warning, "Dropped a cluster message on {Channel}: not a frame of version 1.")]
    public static partial void BadFrame(ILogger logger, string channel);

    [LoggerMessage(107, LogLevel.Error, "The cluster message handler of namespace {Namespace} threw.")]
    public static partial void HandlerFailed(ILogger logger, string @namespace, Exception exception);

    [LoggerMessage(108, LogLevel.Warning, "Lost Redis at {Endpoint}; grain calls and publishes fail until it is back.")]
    public static partial void ConnectionLost(ILogger logger, string endpoint);
}
