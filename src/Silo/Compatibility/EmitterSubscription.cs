using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansRooms.Grains;
using OrleansRooms.Silo.Redis;

namespace OrleansRooms.Silo.Compatibility;

/// <summary>
/// Listens to the official <c>@socket.io/redis-emitter</c>'s channels (<c>PSUBSCRIBE key#*</c> and
/// <c>key-request#*</c>) and hands every translated <see cref="ClusterMessage"/> to a sink. Malformed messages are
/// logged and dropped; a sink that throws is logged too: neither stops the subscription. The sink runs on the
/// subscription connection's read loop, in publish order: keep it short.
/// </summary>
internal sealed class EmitterSubscription : IAsyncDisposable
{
    private readonly RedisClient _client;
    private readonly EmitterMessageTranslator _translator;
    private readonly Action<ClusterMessage> _sink;
    private readonly ILogger _logger;
    private int _disposed;

    private EmitterSubscription(RedisClient client, EmitterChannels channels, Action<ClusterMessage> sink, ILogger logger)
    {
        _client = client;
        _translator = new EmitterMessageTranslator(channels);
        _sink = sink;
        _logger = logger;
    }

    public EmitterChannels Channels => _translator.Channels;

    /// <summary>Subscribes to the emitter channels of <paramref name="key"/> (default <c>socket.io</c>); returns once both subscriptions are confirmed.</summary>
    public static async Task<EmitterSubscription> StartAsync(
        RedisClient client, Action<ClusterMessage> sink, string key = EmitterChannels.DefaultKey, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(sink);
        var subscription = new EmitterSubscription(client, new EmitterChannels(key), sink, logger ?? NullLogger.Instance);
        await client.PSubscribeAsync(subscription.Channels.BroadcastPattern, subscription.OnMessage, cancellationToken);
        await client.PSubscribeAsync(subscription.Channels.RequestPattern, subscription.OnMessage, cancellationToken);
        return subscription;
    }

    private void OnMessage(RedisChannelMessage message)
    {
        if (!_translator.TryTranslate(message.Channel, message.Payload.Span, out var translated, out var error))
        {
            EmitterLog.Rejected(_logger, message.Channel, message.Payload.Length, error);
            return;
        }

        try
        {
            _sink(translated);
        }
        catch (Exception ex)
        {
            EmitterLog.SinkFailed(_logger, message.Channel, ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _client.PUnsubscribeAsync(Channels.BroadcastPattern);
            await _client.PUnsubscribeAsync(Channels.RequestPattern);
        }
        catch (Exception ex) when (ex is RedisConnectionException or ObjectDisposedException or TimeoutException)
        {
            // The connection is gone: so are its subscriptions.
        }
    }
}

internal static partial class EmitterLog
{
    [LoggerMessage(101, LogLevel.Warning, "Dropped a message on emitter channel {Channel} ({Length} bytes): {Reason}.")]
    public static partial void Rejected(ILogger logger, string channel, int length, string reason);

    [LoggerMessage(102, LogLevel.Error, "The sink of emitter messages threw for a message on {Channel}.")]
    public static partial void SinkFailed(ILogger logger, string channel, Exception exception);
}
