using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansRooms.Grains.Gateways;
using StackExchange.Redis;

namespace OrleansRooms.Silo.Compatibility;

/// <summary>
/// Listens, on a gateway, to the official <c>@socket.io/redis-emitter</c>'s channels (<c>key#...</c> and
/// <c>key-request#...</c>, through <c>PSUBSCRIBE key*</c>) and hands each message, translated, to this gateway's
/// <see cref="IGatewayInbox"/>: every gateway hears every message and carries it out on its own sockets, as every
/// Socket.IO server with the Redis adapter does, so a room's member gets a broadcast once, wherever it is connected.
/// <list type="bullet">
/// <item>Broadcasts and requests are read in one stream, in publish order (StackExchange.Redis' ordered
/// <see cref="ChannelMessageQueue"/>), and each message is decoded as it is read: no queue of our own. The library's
/// queue between its socket and this reader is unbounded, so past <see cref="RedisEmitterOptions.MaxBacklog"/> waiting
/// messages are dropped unread.</item>
/// <item>A malformed message is logged and dropped, as is one the gateway throws on: neither stops the listener.</item>
/// <item>StackExchange.Redis reconnects and subscribes again by itself after Redis restarts; the listener logs when it
/// hears again, once a ping on the subscription connection (ordered after the re-subscriptions) has been answered.</item>
/// <item>Start-up waits for the first subscription, so a started gateway hears the emitter; when Redis cannot be reached
/// then (after StackExchange.Redis' connect timeout), the gateway starts anyway and the listener subscribes once it is.</item>
/// </list>
/// </summary>
internal sealed class RedisEmitterListener(
    IServiceProvider services,
    IOptions<RedisEmitterOptions> options,
    EmitterMetrics metrics,
    TimeProvider timeProvider,
    ILogger<RedisEmitterListener> logger) : IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _stopping = new();
    private ConnectionMultiplexer? _redis;
    private EmitterChannels? _channels;
    private Task _running = Task.CompletedTask;
    private volatile bool _subscribed;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.IsEnabled)
        {
            EmitterLog.Off(logger, $"no Redis and key are configured ({RedisEmitterOptions.SectionName})");
            return;
        }

        if (services.GetService<IGatewayInbox>() is not { } inbox)
        {
            EmitterLog.Off(logger, "this silo hosts no gateway");
            return;
        }

        var configuration = ConfigurationOptions.Parse(settings.Redis!);
        // Start even when Redis is down: StackExchange.Redis keeps connecting in the background.
        configuration.AbortOnConnectFail = false;
        configuration.ClientName ??= "orleansrooms-emitter";
        _channels = new EmitterChannels(settings.Key);
        _redis = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        _redis.ConnectionFailed += OnConnectionFailed;
        _redis.ConnectionRestored += OnConnectionRestored;

        var subscriber = _redis.GetSubscriber();
        ChannelMessageQueue? queue = null;
        if (_redis.IsConnected)
        {
            queue = await TrySubscribeAsync(subscriber, _channels.Pattern).ConfigureAwait(false);
        }
        else
        {
            EmitterLog.SubscribeFailed(logger, null);
        }

        var redis = configuration.ToString(includePassword: false);
        if (queue is not null)
        {
            _subscribed = true;
            EmitterLog.Listening(logger, redis, EmitterLog.Escape(settings.Key));
        }

        _running = RunAsync(subscriber, queue, inbox, settings.MaxBacklog, redis, _stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _running.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping was cancelled (an ungraceful stop): the connection is closed below all the same.
        }

        await DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _redis, null) is { } redis)
        {
            redis.ConnectionFailed -= OnConnectionFailed;
            redis.ConnectionRestored -= OnConnectionRestored;
            await redis.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Subscribes if the start could not (retrying until Redis answers), then reads until stopped.</summary>
    private async Task RunAsync(ISubscriber subscriber, ChannelMessageQueue? queue, IGatewayInbox inbox, int maxBacklog, string redis, CancellationToken stopping)
    {
        try
        {
            if (queue is null)
            {
                queue = await SubscribeAsync(subscriber, _channels!.Pattern, stopping).ConfigureAwait(false);
                _subscribed = true;
                EmitterLog.Listening(logger, redis, EmitterLog.Escape(_channels.Key));
            }

            await ReadAsync(queue, inbox, maxBacklog, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task<ChannelMessageQueue?> TrySubscribeAsync(ISubscriber subscriber, RedisChannel pattern)
    {
        try
        {
            return await subscriber.SubscribeAsync(pattern).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            EmitterLog.SubscribeFailed(logger, ex);
            await ForgetAsync(subscriber, pattern).ConfigureAwait(false);
            return null;
        }
    }

    private async Task<ChannelMessageQueue> SubscribeAsync(ISubscriber subscriber, RedisChannel pattern, CancellationToken stopping)
    {
        while (true)
        {
            await Task.Delay(RetryDelay, timeProvider, stopping).ConfigureAwait(false);
            if (_redis?.IsConnected == true && await TrySubscribeAsync(subscriber, pattern).ConfigureAwait(false) is { } queue)
            {
                return queue;
            }
        }
    }

    /// <summary>
    /// A failed subscription stays registered with its queue, which StackExchange.Redis would fill once connected with
    /// nobody reading it: remove it before trying again.
    /// </summary>
    private static async Task ForgetAsync(ISubscriber subscriber, RedisChannel pattern)
    {
        try
        {
            await subscriber.UnsubscribeAsync(pattern).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // The local registration is gone all the same; the server side went with the connection.
        }
    }

    /// <summary>Reads the messages in publish order, decoding each as it is read.</summary>
    private async Task ReadAsync(ChannelMessageQueue queue, IGatewayInbox inbox, int maxBacklog, CancellationToken stopping)
    {
        using var translator = new EmitterMessageTranslator(_channels!);
        var pattern = EmitterLog.Escape(queue.Channel.ToString());
        long dropped = 0;
        while (true)
        {
            ChannelMessage next;
            try
            {
                if (!queue.TryRead(out next))
                {
                    next = await queue.ReadAsync(stopping).ConfigureAwait(false);
                }
            }
            catch (ChannelClosedException)
            {
                return;
            }

            var channel = next.Channel.ToString();
            if (!translator.Channels.IsEmitterChannel(channel))
            {
                continue;
            }

            metrics.Received();
            if (queue.TryGetCount(out var waiting) && waiting >= maxBacklog)
            {
                if (dropped++ == 0)
                {
                    EmitterLog.BacklogOverflow(logger, maxBacklog, pattern);
                }

                metrics.RejectedBacklog();
                continue;
            }

            if (dropped > 0 && waiting <= maxBacklog / 2)
            {
                EmitterLog.BacklogRecovered(logger, pattern, dropped);
                dropped = 0;
            }

            Handle(translator, channel, next.Message, inbox);
        }
    }

    private void Handle(EmitterMessageTranslator translator, string channel, ReadOnlyMemory<byte> payload, IGatewayInbox inbox)
    {
        if (!translator.TryTranslate(channel, payload, out var message, out var error))
        {
            metrics.RejectedMalformed();
            EmitterLog.Rejected(logger, EmitterLog.Escape(channel), payload.Length, EmitterLog.Escape(error));
            return;
        }

        try
        {
            inbox.Receive(message);
        }
        catch (Exception ex)
        {
            metrics.RejectedFailed();
            EmitterLog.Failed(logger, message.Type.ToString(), EmitterLog.Escape(channel), ex);
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (IsSubscriptionConnection(e.EndPoint, e.ConnectionType))
        {
            EmitterLog.ConnectionLost(logger, e.FailureType.ToString(), e.Exception);
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        // Before the first subscription there is nothing to hear again: the retry logs when it subscribes.
        if (_subscribed && IsSubscriptionConnection(e.EndPoint, e.ConnectionType))
        {
            _ = ConfirmListeningAsync();
        }
    }

    /// <summary>
    /// StackExchange.Redis re-subscribes before it reports the connection restored; a ping on the subscription
    /// connection is answered after those subscriptions, so once it is, the channels are heard again.
    /// </summary>
    private async Task ConfirmListeningAsync()
    {
        try
        {
            if (_redis is { } redis)
            {
                await redis.GetSubscriber().PingAsync().ConfigureAwait(false);
                EmitterLog.ListeningAgain(logger);
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            // Lost again already: the next restore confirms.
        }
    }

    // With RESP3, subscriptions share the interactive connection.
    private bool IsSubscriptionConnection(System.Net.EndPoint? endPoint, ConnectionType type) =>
        type == ConnectionType.Subscription
        || (type == ConnectionType.Interactive && endPoint is not null && _redis?.GetServer(endPoint).Protocol == RedisProtocol.Resp3);
}
