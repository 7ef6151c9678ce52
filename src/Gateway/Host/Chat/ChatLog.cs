using Microsoft.Extensions.Logging;

namespace OrleansRooms.Host.Chat;

// Names, rooms and reasons come from clients: LogText writes them escaped, so nobody can forge a log line.
internal static partial class ChatLog
{
    [LoggerMessage(1, LogLevel.Information, "{Name} connected as {SocketId}.")]
    public static partial void Connected(ILogger logger, LogText name, string socketId);

    [LoggerMessage(2, LogLevel.Information, "{Name} joined {Room}.")]
    public static partial void Joined(ILogger logger, LogText name, LogText room);

    [LoggerMessage(3, LogLevel.Information, "{Name} disconnected: {Reason}.")]
    public static partial void Disconnected(ILogger logger, LogText name, LogText reason);

    [LoggerMessage(4, LogLevel.Warning, "Sending the room list changes failed.")]
    public static partial void RoomListFailed(ILogger logger, Exception exception);
}
