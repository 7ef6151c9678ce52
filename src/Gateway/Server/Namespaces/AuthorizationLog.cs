using Microsoft.Extensions.Logging;

namespace OrleansRooms;

// What a namespace's authentication, authorization and room guards decide. A refusal is the client's affair
// (Information, as ASP.NET Core logs its own); an authenticator or a policy that fails is the application's (Error).
internal static partial class AuthorizationLog
{
    [LoggerMessage(1, LogLevel.Information, "Socket {SocketId} was refused namespace {Namespace}: {Outcome}.")]
    public static partial void NamespaceRefused(ILogger logger, string socketId, LogText @namespace, string outcome);

    [LoggerMessage(2, LogLevel.Error, "The authentication or authorization of namespace {Namespace} failed for socket {SocketId}; its client got a connect error.")]
    public static partial void NamespaceAuthorizationFailed(ILogger logger, LogText @namespace, string socketId, Exception exception);

    [LoggerMessage(3, LogLevel.Information, "Socket {SocketId} of namespace {Namespace} was refused room {Room}.")]
    public static partial void RoomJoinDenied(ILogger logger, string socketId, LogText @namespace, LogText room);
}
