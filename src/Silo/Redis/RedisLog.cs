using Microsoft.Extensions.Logging;

namespace OrleansRooms.Silo.Redis;

internal static partial class RedisLog
{
    [LoggerMessage(1, LogLevel.Information, "Connected to Redis at {Endpoint} ({Kind}).")]
    public static partial void Connected(ILogger logger, string endpoint, string kind);

    [LoggerMessage(2, LogLevel.Warning, "Lost the Redis connection to {Endpoint} ({Kind}).")]
    public static partial void ConnectionLost(ILogger logger, string endpoint, string kind, Exception? exception);

    [LoggerMessage(3, LogLevel.Debug, "Reconnect to Redis at {Endpoint} failed; next attempt in {Delay}.")]
    public static partial void ReconnectFailed(ILogger logger, string endpoint, TimeSpan delay, Exception exception);

    [LoggerMessage(4, LogLevel.Information, "Reconnected to Redis at {Endpoint} ({Kind}), {Subscriptions} subscriptions restored.")]
    public static partial void Reconnected(ILogger logger, string endpoint, string kind, int subscriptions);

    [LoggerMessage(5, LogLevel.Error, "A Redis subscription handler for {Channel} threw.")]
    public static partial void HandlerFailed(ILogger logger, string channel, Exception exception);

    [LoggerMessage(6, LogLevel.Debug, "Redis cluster slot map loaded from {Endpoint}: {Masters} masters.")]
    public static partial void SlotMapLoaded(ILogger logger, string endpoint, int masters);

    [LoggerMessage(7, LogLevel.Debug, "Redis cluster redirect {Redirect} for {Command}.")]
    public static partial void Redirected(ILogger logger, string redirect, string command);

    [LoggerMessage(8, LogLevel.Warning, "Loading the Redis cluster slot map failed.")]
    public static partial void SlotMapFailed(ILogger logger, Exception exception);

    [LoggerMessage(9, LogLevel.Warning, "Restoring the Redis subscription {Channel} failed: {Error}.")]
    public static partial void ResubscribeFailed(ILogger logger, string channel, string error);

    [LoggerMessage(10, LogLevel.Debug, "Shard channel {Channel} moved from {From} to {To}; subscribing there.")]
    public static partial void ShardChannelMoved(ILogger logger, string channel, string from, string to);
}
