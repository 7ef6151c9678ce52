using Microsoft.Extensions.Logging;

namespace OrleansRooms.Rooms;

internal static partial class PresenceLog
{
    [LoggerMessage(201, LogLevel.Error, "A presence handler ({Change}) of namespace {Namespace} failed for room {Room}.")]
    public static partial void HandlerFailed(ILogger logger, string change, LogText @namespace, LogText room, Exception exception);

    [LoggerMessage(202, LogLevel.Warning, "{Count} presence changes of namespace {Namespace} were dropped: more than {Capacity} waited for the other gateways.")]
    public static partial void Dropped(ILogger logger, int count, LogText @namespace, int capacity);

    [LoggerMessage(203, LogLevel.Warning, "{Count} presence changes of namespace {Namespace} did not reach gateway {Gateway}; they are not sent again, nor are those that fail to reach it before it answers again.")]
    public static partial void NotDelivered(ILogger logger, int count, LogText @namespace, SiloAddress gateway, Exception exception);

    [LoggerMessage(204, LogLevel.Error, "{Count} presence changes of namespace {Namespace} could not be sent to the other gateways; they are not sent again.")]
    public static partial void BatchFailed(ILogger logger, int count, LogText @namespace, Exception exception);
}
