using Microsoft.Extensions.Logging;

namespace OrleansRooms.Admin;

// Whatever an admin client chooses (user names, namespaces, rooms, events) is a LogText: written escaped.
internal static partial class AdminLog
{
    [LoggerMessage(1, LogLevel.Information, "Admin UI enabled on namespace {Namespace} as server {ServerId} ({Mode} mode, authentication {Auth}, read-only {ReadOnly}).")]
    public static partial void Enabled(ILogger logger, LogText @namespace, LogText serverId, AdminUIMode mode, AdminUIAuthType auth, bool readOnly);

    [LoggerMessage(2, LogLevel.Warning, "Admin UI authentication is disabled: anyone who reaches namespace {Namespace} can watch and operate the server.")]
    public static partial void NoAuthentication(ILogger logger, LogText @namespace);

    [LoggerMessage(3, LogLevel.Warning, "Admin UI connection {ConnectionId} from {Address} refused: invalid credentials for user {Username}.")]
    public static partial void InvalidCredentials(ILogger logger, string connectionId, LogText address, LogText username);

    [LoggerMessage(4, LogLevel.Information, "Admin UI user {Username} logged in from {Address} (socket {SocketId}).")]
    public static partial void LoggedIn(ILogger logger, LogText username, LogText address, string socketId);

    [LoggerMessage(5, LogLevel.Warning, "Admin UI operation {Operation} on namespace {Namespace} refused: the admin UI is read-only.")]
    public static partial void ReadOnlyRefused(ILogger logger, LogText operation, LogText @namespace);

    [LoggerMessage(6, LogLevel.Information, "Admin UI operation {Operation} on namespace {Namespace} (filter {Filter}) by socket {SocketId}.")]
    public static partial void Operation(ILogger logger, LogText operation, LogText @namespace, LogText filter, string socketId);

    [LoggerMessage(7, LogLevel.Warning, "Admin UI operation {Operation} on namespace {Namespace} failed.")]
    public static partial void OperationFailed(ILogger logger, LogText operation, LogText @namespace, Exception exception);

    [LoggerMessage(8, LogLevel.Warning, "Admin UI operation {Operation} refused: {Error}.")]
    public static partial void InvalidOperation(ILogger logger, LogText operation, string error);

    [LoggerMessage(9, LogLevel.Warning, "The admin UI's {Event} could not be sent to the cluster.")]
    public static partial void EmitFailed(ILogger logger, string @event, Exception exception);

    [LoggerMessage(10, LogLevel.Warning, "The admin UI dropped its {Count} oldest events: more than {Capacity} were waiting to be sent.")]
    public static partial void EventsDropped(ILogger logger, long count, int capacity);
}
