using Microsoft.Extensions.Logging;

namespace OrleansRooms.Engine;

// Reasons and explanations are LogText (written escaped): today they are the server's own words, but a reason may
// one day quote what a client sent, and this keeps every such line safe without touching its call sites.
internal static partial class EngineLog
{
    [LoggerMessage(1, LogLevel.Debug, "Engine.IO session {Sid} opened over {Transport}.")]
    public static partial void SessionOpened(ILogger logger, string sid, string transport);

    [LoggerMessage(2, LogLevel.Debug, "Engine.IO session {Sid} closed: {Reason}.")]
    public static partial void SessionClosed(ILogger logger, string sid, LogText reason);

    [LoggerMessage(3, LogLevel.Debug, "Engine.IO request refused with {Status} (code {Code}, {Message}).")]
    public static partial void RequestRefused(ILogger logger, int status, int code, LogText message);

    [LoggerMessage(4, LogLevel.Debug, "Engine.IO session {Sid} upgraded to websocket.")]
    public static partial void Upgraded(ILogger logger, string sid);

    [LoggerMessage(5, LogLevel.Debug, "Engine.IO session {Sid} abandoned its upgrade: {Why}.")]
    public static partial void UpgradeAbandoned(ILogger logger, string sid, LogText why);

    [LoggerMessage(6, LogLevel.Debug, "WebSocket of session {Sid} closing with status {Status}: {Why}.")]
    public static partial void WebSocketProtocolError(ILogger logger, string sid, int status, LogText why);

    [LoggerMessage(7, LogLevel.Debug, "Transport error on Engine.IO session {Sid}.")]
    public static partial void TransportError(ILogger logger, string sid, Exception exception);

    [LoggerMessage(8, LogLevel.Error, "The Engine.IO handler threw on session {Sid}.")]
    public static partial void HandlerError(ILogger logger, string sid, Exception exception);

    [LoggerMessage(9, LogLevel.Warning, "An Engine.IO session deadline (heartbeat, upgrade or drain) failed.")]
    public static partial void TimerError(ILogger logger, Exception exception);

    [LoggerMessage(10, LogLevel.Debug, "Engine.IO session {Sid} sent a heartbeat the wrong way: in protocol v4 the server pings, in v3 the client pings.")]
    public static partial void InvalidHeartbeatDirection(ILogger logger, string sid);

    [LoggerMessage(11, LogLevel.Warning, "Engine.IO session {Sid} closed: {Bytes} bytes would be waiting to be sent, more than MaxSendBufferSize ({Limit}); the client does not read what it is sent.")]
    public static partial void SendBufferFull(ILogger logger, string sid, long bytes, long limit);

    [LoggerMessage(31, LogLevel.Error, "An Engine.IO '{Event}' handler threw.")]
    public static partial void EventHandlerFailed(ILogger logger, string @event, Exception exception);
}
