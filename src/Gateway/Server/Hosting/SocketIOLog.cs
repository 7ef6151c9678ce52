using Microsoft.Extensions.Logging;

namespace OrleansRooms;

// Every argument a client (or another process of the cluster) chooses is a LogText: written escaped (see LogText).
internal static partial class SocketIOLog
{
    [LoggerMessage(1, LogLevel.Debug, "Socket {SocketId} connected to namespace {Namespace}.")]
    public static partial void SocketConnected(ILogger logger, string socketId, LogText @namespace);

    [LoggerMessage(2, LogLevel.Debug, "Socket {SocketId} disconnected from namespace {Namespace}: {Reason}.")]
    public static partial void SocketDisconnected(ILogger logger, string socketId, LogText @namespace, LogText reason);

    [LoggerMessage(3, LogLevel.Error, "The '{EventName}' handler of socket {SocketId} failed.")]
    public static partial void HandlerFailed(ILogger logger, LogText eventName, string socketId, Exception exception);

    [LoggerMessage(4, LogLevel.Warning, "Middleware failed for socket {SocketId}.")]
    public static partial void MiddlewareFailed(ILogger logger, string socketId, Exception exception);

    // Debug: what a client sends wrong is its problem, not the operator's; a flood of bad packets must not flood the log.
    [LoggerMessage(5, LogLevel.Debug, "Connection {ConnectionId} sent an invalid packet and is closed: {Error}")]
    public static partial void ParseError(ILogger logger, string connectionId, LogText error);

    [LoggerMessage(6, LogLevel.Debug, "Connection {ConnectionId} sent a {PacketType} packet for namespace {Namespace} in the wrong state and is closed.")]
    public static partial void InvalidState(ILogger logger, string connectionId, LogText @namespace, string packetType);

    [LoggerMessage(7, LogLevel.Debug, "Connection {ConnectionId} joined no namespace in time and is closed.")]
    public static partial void ConnectTimeout(ILogger logger, string connectionId);

    [LoggerMessage(8, LogLevel.Warning, "The session of socket {SocketId} could not be started in the cluster; its client got a connect error.")]
    public static partial void SessionNotStarted(ILogger logger, string socketId, Exception exception);

    [LoggerMessage(12, LogLevel.Warning, "Socket {SocketId} could not be recovered; its client gets a new session.")]
    public static partial void RecoveryFailed(ILogger logger, string socketId, Exception exception);

    [LoggerMessage(13, LogLevel.Warning, "The data of socket {SocketId} could not be handed to its session; if its gateway dies, it is recovered with the data it had before.")]
    public static partial void DataNotSaved(ILogger logger, string socketId, Exception exception);

    [LoggerMessage(9, LogLevel.Warning, "A server-side event of namespace {Namespace} could not reach a server of the cluster.")]
    public static partial void ServerSideEmitFailed(ILogger logger, LogText @namespace, Exception exception);

    [LoggerMessage(11, LogLevel.Warning, "Gateway {Gateway} could not answer for its sockets' acknowledgements of a broadcast; the broadcast reports them missing.")]
    public static partial void GatewayDidNotAnswer(ILogger logger, SiloAddress gateway, Exception exception);

    [LoggerMessage(31, LogLevel.Debug, "Child namespace {Namespace} has no socket left and is removed (CleanupEmptyChildNamespaces).")]
    public static partial void ChildNamespaceRemoved(ILogger logger, LogText @namespace);

    [LoggerMessage(10, LogLevel.Warning, "A {MessageType} message for namespace {Namespace} from the cluster could not be applied.")]
    public static partial void ClusterMessageRejected(ILogger logger, string messageType, LogText @namespace, Exception exception);
}
