using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;

namespace OrleansRooms.Silo.Redis;

/// <summary>
/// A long-lived connection to one Redis endpoint: a <see cref="RedisTransport"/> that is replaced when it drops.
/// Every (re)connect authenticates, names the client and selects the database; a pub/sub connection also
/// re-subscribes everything it holds. While it is down, commands fail at once with <see cref="RedisConnectionException"/>.
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable
{
    private readonly RedisOptions _options;
    private readonly ILogger _logger;
    private readonly bool _selectDatabase;
    private readonly Action<RedisConnection, RedisReply>? _onPush;
    private readonly CancellationTokenSource _disposed = new();
    // What this pub/sub connection is subscribed to, so a reconnect can restore it.
    private readonly ConcurrentDictionary<(RedisSubscriptionKind Kind, string Name), byte> _subscriptions = new();
    private volatile RedisTransport? _transport;

    public RedisConnection(string endpoint, RedisOptions options, ILogger logger, bool selectDatabase, Action<RedisConnection, RedisReply>? onPush = null)
    {
        Endpoint = endpoint;
        _options = options;
        _logger = logger;
        _selectDatabase = selectDatabase;
        _onPush = onPush;
    }

    public string Endpoint { get; }

    public bool IsSubscriber => _onPush is not null;

    public bool IsConnected => _transport?.IsOpen == true;

    public event Action<RedisConnectionEventArgs>? ConnectionLost;

    public event Action<RedisConnectionEventArgs>? Reconnected;

    private string Kind => IsSubscriber ? "pub/sub" : "commands";

    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        await ConnectCoreAsync(cancellationToken);
        RedisLog.Connected(_logger, Endpoint, Kind);
    }

    /// <summary>Sends a command and returns its reply, error replies included (the caller decides what an error means).</summary>
    public Task<RedisReply> ExecuteAsync(RedisCommand command, CancellationToken cancellationToken = default) =>
        ExecuteAsync(command, ackKind: null, cancellationToken);

    /// <summary>A subscribe-family command: answered by the matching push instead of a plain reply.</summary>
    public Task<RedisReply> ExecuteAsync(RedisCommand command, byte[]? ackKind, CancellationToken cancellationToken)
    {
        var transport = _transport;
        var pending = new PendingCommand(command, ackKind);
        if (transport is null || !transport.TryEnqueue(pending))
        {
            return Task.FromException<RedisReply>(new RedisConnectionException($"Not connected to Redis at {Endpoint} (reconnecting); {command.Name} was not sent."));
        }

        return WaitAsync(pending, _options.CommandTimeout, cancellationToken);
    }

    /// <summary>Records a subscription to restore after a reconnect; false when it was already recorded.</summary>
    public bool Track(RedisSubscriptionKind kind, string name) => _subscriptions.TryAdd((kind, name), 0);

    public bool Untrack(RedisSubscriptionKind kind, string name) => _subscriptions.TryRemove((kind, name), out _);

    public bool IsTracked(RedisSubscriptionKind kind, string name) => _subscriptions.ContainsKey((kind, name));

    internal static (string Subscribe, byte[] Ack) SubscribeVerb(RedisSubscriptionKind kind) => kind switch
    {
        RedisSubscriptionKind.Channel => ("SUBSCRIBE", "subscribe"u8.ToArray()),
        RedisSubscriptionKind.Pattern => ("PSUBSCRIBE", "psubscribe"u8.ToArray()),
        _ => ("SSUBSCRIBE", "ssubscribe"u8.ToArray()),
    };

    internal static (string Unsubscribe, byte[] Ack) UnsubscribeVerb(RedisSubscriptionKind kind) => kind switch
    {
        RedisSubscriptionKind.Channel => ("UNSUBSCRIBE", "unsubscribe"u8.ToArray()),
        RedisSubscriptionKind.Pattern => ("PUNSUBSCRIBE", "punsubscribe"u8.ToArray()),
        _ => ("SUNSUBSCRIBE", "sunsubscribe"u8.ToArray()),
    };

    private static async Task<RedisReply> WaitAsync(PendingCommand pending, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await pending.Task.WaitAsync(timeout <= TimeSpan.Zero ? Timeout.InfiniteTimeSpan : timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            pending.Abandon();
            throw new TimeoutException($"Redis did not answer {pending.Command.Name} within {timeout.TotalMilliseconds:0} ms.");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            pending.Abandon();
            throw;
        }
    }

    private async Task<int> ConnectCoreAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token);
        timeout.CancelAfter(_options.ConnectTimeout);
        RedisTransport transport;
        try
        {
            transport = await RedisTransport.ConnectAsync(Endpoint, _onPush is null ? null : reply => _onPush(this, reply), timeout.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            string why = ex is OperationCanceledException ? $"no answer within {_options.ConnectTimeout.TotalMilliseconds:0} ms" : ex.Message;
            throw new RedisConnectionException($"Could not connect to Redis at {Endpoint}: {why}", ex);
        }

        try
        {
            await HandshakeAsync(transport, timeout.Token);
        }
        catch (Exception ex)
        {
            transport.Abort(null);
            if (ex is RedisConnectionException)
            {
                throw;
            }

            throw new RedisConnectionException($"The handshake with Redis at {Endpoint} failed: {ex.Message}", ex);
        }

        // Publish the transport before restoring subscriptions: a subscribe racing with the restore either lands on this
        // transport or is already in the set the restore reads.
        _transport = transport;
        _ = MonitorAsync(transport);
        return await RestoreSubscriptionsAsync(transport);
    }

    private async Task HandshakeAsync(RedisTransport transport, CancellationToken cancellationToken)
    {
        var commands = new List<RedisCommand>();
        if (!string.IsNullOrEmpty(_options.Password))
        {
            commands.Add(string.IsNullOrEmpty(_options.User)
                ? RedisCommand.Create("AUTH", _options.Password)
                : RedisCommand.Create("AUTH", _options.User, _options.Password));
        }

        if (!string.IsNullOrEmpty(_options.ClientName))
        {
            commands.Add(RedisCommand.Create("CLIENT", "SETNAME", _options.ClientName));
        }

        if (_selectDatabase && _options.Database != 0)
        {
            commands.Add(RedisCommand.Create("SELECT", _options.Database));
        }

        // PING proves the connection usable (a server that wants a password we lack says NOAUTH here, not on the first command).
        commands.Add(RedisCommand.Create("PING"));

        var pendings = new List<PendingCommand>(commands.Count);
        foreach (var command in commands)
        {
            var pending = new PendingCommand(command, null);
            if (!transport.TryEnqueue(pending))
            {
                throw new RedisConnectionException($"The connection to Redis at {Endpoint} closed during the handshake.");
            }

            pendings.Add(pending);
        }

        foreach (var pending in pendings)
        {
            var reply = await pending.Task.WaitAsync(cancellationToken);
            if (reply.IsError)
            {
                string what = pending.Command.Name == "AUTH" ? "authentication" : pending.Command.ToString();
                throw new RedisConnectionException(
                    $"Redis at {Endpoint} refused {what}: {reply.ErrorMessage}",
                    new RedisServerException(reply.ErrorMessage!));
            }
        }
    }

    private async Task<int> RestoreSubscriptionsAsync(RedisTransport transport)
    {
        if (_subscriptions.IsEmpty)
        {
            return 0;
        }

        var restores = new List<(string Name, Task<RedisReply> Reply)>();
        foreach (var (kind, name) in _subscriptions.Keys)
        {
            var (verb, ack) = SubscribeVerb(kind);
            var pending = new PendingCommand(RedisCommand.Create(verb, name), ack);
            if (!transport.TryEnqueue(pending))
            {
                break;
            }

            restores.Add((name, WaitAsync(pending, _options.CommandTimeout, CancellationToken.None)));
        }

        int restored = 0;
        foreach (var (name, reply) in restores)
        {
            try
            {
                var result = await reply;
                if (result.IsError)
                {
                    RedisLog.ResubscribeFailed(_logger, name, result.ErrorMessage!);
                }
                else
                {
                    restored++;
                }
            }
            catch (Exception ex) when (ex is RedisConnectionException or TimeoutException)
            {
                // The new transport died too; its monitor starts the next reconnect.
                RedisLog.ResubscribeFailed(_logger, name, ex.Message);
            }
        }

        return restored;
    }

    private async Task MonitorAsync(RedisTransport transport)
    {
        var reason = await transport.Closed;
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        RedisLog.ConnectionLost(_logger, Endpoint, Kind, reason);
        Raise(ConnectionLost, new RedisConnectionEventArgs(Endpoint, IsSubscriber, reason));

        var delay = _options.ReconnectMinDelay;
        while (!_disposed.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(delay, _disposed.Token);
                int restored = await ConnectCoreAsync(_disposed.Token);
                RedisLog.Reconnected(_logger, Endpoint, Kind, restored);
                Raise(Reconnected, new RedisConnectionEventArgs(Endpoint, IsSubscriber, null));
                return;
            }
            catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.ReconnectMaxDelay.Ticks));
                RedisLog.ReconnectFailed(_logger, Endpoint, delay, ex);
            }
        }
    }

    private void Raise(Action<RedisConnectionEventArgs>? handler, RedisConnectionEventArgs args)
    {
        try
        {
            handler?.Invoke(args);
        }
        catch (Exception ex)
        {
            RedisLog.HandlerFailed(_logger, "connection event", ex);
        }
    }

    public ValueTask DisposeAsync()
    {
        if (!_disposed.IsCancellationRequested)
        {
            _disposed.Cancel();
            _transport?.Abort(null);
        }

        return ValueTask.CompletedTask;
    }

    public override string ToString() => $"{Endpoint} ({Kind})";

    internal static string Decode(RedisReply reply) => reply.Type == RedisReplyType.BulkString
        ? Encoding.UTF8.GetString(reply.AsBytes()!)
        : reply.AsString() ?? string.Empty;
}
