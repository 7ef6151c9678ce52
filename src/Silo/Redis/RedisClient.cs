using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace OrleansRooms.Silo.Redis;

/// <summary>
/// The cluster engine's Redis client: one multiplexed, pipelined command connection per server (per master in a
/// Redis Cluster, commands routed by the hash slot of their key, MOVED/ASK/TRYAGAIN followed), a separate pub/sub
/// connection where subscriptions live, scripts by SHA, and automatic reconnection that restores subscriptions.
/// </summary>
internal sealed class RedisClient : IAsyncDisposable
{
    private const int MaxRedirects = 5;

    private readonly RedisOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, RedisNode> _nodes = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Action<RedisChannelMessage>> _channels = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Action<RedisChannelMessage>> _patterns = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ShardSubscription> _shards = new(StringComparer.Ordinal);
    private readonly Lock _refreshGate = new();
    private RedisNode _main = null!;
    // Slot → master; replaced whole on refresh, patched in place by MOVED.
    private RedisNode?[] _slots = new RedisNode?[RedisHashSlot.Count];
    private Task? _refresh;
    private int _disposed;

    private RedisClient(RedisOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
    }

    /// <summary>True when connected to a Redis Cluster.</summary>
    public bool IsCluster { get; private set; }

    /// <summary>True while every connection opened so far is up.</summary>
    public bool IsConnected => _nodes.Values.SelectMany(n => n.OpenedConnections()).All(c => c.IsConnected);

    /// <summary>A connection (command or pub/sub) dropped; it reconnects by itself.</summary>
    public event Action<RedisConnectionEventArgs>? ConnectionLost;

    /// <summary>
    /// A connection is back (authenticated, subscriptions restored). The server may have lost its data (a restart):
    /// this is the cue to re-publish state.
    /// </summary>
    public event Action<RedisConnectionEventArgs>? Reconnected;

    public static async Task<RedisClient> ConnectAsync(RedisOptions options, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var client = new RedisClient(options, logger ?? NullLogger.Instance);
        try
        {
            await client.StartAsync(cancellationToken);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        var endpoints = _options.Endpoints.Count > 0 ? _options.Endpoints : ["localhost:6379"];
        Exception? last = null;
        foreach (var endpoint in endpoints)
        {
            try
            {
                var node = GetNode(endpoint, selectDatabase: _options.Cluster != true);
                var connection = await node.GetCommandsAsync().WaitAsync(cancellationToken);
                bool cluster = _options.Cluster ?? await DetectClusterAsync(connection, cancellationToken);
                _main = node;
                IsCluster = cluster;
                if (cluster)
                {
                    await LoadSlotMapAsync(connection, cancellationToken);
                    // Open every master now so the first commands do not pay for it.
                    await Task.WhenAll(_nodes.Values.Select(n => n.GetCommandsAsync()));
                }

                return;
            }
            catch (Exception ex) when (ex is RedisConnectionException or TimeoutException && endpoints.Count > 1)
            {
                last = ex;
            }
        }

        throw new RedisConnectionException("No Redis endpoint could be reached.", last!);
    }

    private static async Task<bool> DetectClusterAsync(RedisConnection connection, CancellationToken cancellationToken)
    {
        var reply = await connection.ExecuteAsync(RedisCommand.Create("INFO", "cluster"), cancellationToken);
        return !reply.IsError && (reply.AsString() ?? string.Empty).Contains("cluster_enabled:1", StringComparison.Ordinal);
    }

    /// <summary>Runs a command; an error reply throws <see cref="RedisServerException"/>.</summary>
    public async Task<RedisReply> ExecuteAsync(RedisCommand command, CancellationToken cancellationToken = default)
    {
        var reply = await ExecuteRawAsync(command, cancellationToken);
        return reply.IsError ? throw new RedisServerException(reply.ErrorMessage!) : reply;
    }

    /// <summary>
    /// Runs a script with EVALSHA; when the server does not know it (NOSCRIPT: first use, after a restart or
    /// <c>SCRIPT FLUSH</c>, on another cluster node) it is sent once with EVAL, which also caches it there.
    /// In a cluster all keys must share a slot (use a hash tag); the first key routes it.
    /// </summary>
    public Task<RedisReply> EvalAsync(RedisScript script, ReadOnlySpan<RedisArg> keys, ReadOnlySpan<RedisArg> args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(script);
        var command = new RedisCommand("EVALSHA").Arg(script.Sha1Bytes).Arg(keys.Length);
        foreach (var key in keys)
        {
            command.Key(key);
        }

        foreach (var arg in args)
        {
            command.Arg(arg);
        }

        return EvalCoreAsync(script, command, cancellationToken);
    }

    private async Task<RedisReply> EvalCoreAsync(RedisScript script, RedisCommand evalSha, CancellationToken cancellationToken)
    {
        var reply = await ExecuteRawAsync(evalSha, cancellationToken);
        if (reply.IsError && reply.ErrorMessage!.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            reply = await ExecuteRawAsync(evalSha.WithNameAndFirstArgument("EVAL", script.LuaBytes), cancellationToken);
        }

        return reply.IsError ? throw new RedisServerException(reply.ErrorMessage!) : reply;
    }

    /// <summary>PUBLISH on classic pub/sub; returns how many subscribers received it (in a cluster: on the node it went to).</summary>
    public async Task<long> PublishAsync(string channel, ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default) =>
        (await ExecuteAsync(RedisCommand.Create("PUBLISH", channel, message), cancellationToken)).AsInt64();

    /// <summary>SPUBLISH to a shard channel, sent to the node owning the channel's slot; returns the receiver count.</summary>
    public async Task<long> SPublishAsync(string shardChannel, ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        var command = new RedisCommand("SPUBLISH").Key(shardChannel).Arg(message);
        return (await ExecuteAsync(command, cancellationToken)).AsInt64();
    }

    /// <summary>
    /// Subscribes to a channel; <paramref name="handler"/> runs on the pub/sub read loop for each message, in order
    /// (see <see cref="RedisChannelMessage"/>: the payload is valid only during the call). Subscribing again to the same
    /// channel replaces the handler. If the connection is down, this throws <see cref="RedisConnectionException"/> but
    /// the subscription is kept and made when the connection is back.
    /// </summary>
    public Task SubscribeAsync(string channel, Action<RedisChannelMessage> handler, CancellationToken cancellationToken = default) =>
        SubscribeOnAsync(_main, RedisSubscriptionKind.Channel, channel, handler, _channels, cancellationToken);

    /// <summary>Subscribes to a glob pattern (PSUBSCRIBE); the message carries the pattern and the actual channel.</summary>
    public Task PSubscribeAsync(string pattern, Action<RedisChannelMessage> handler, CancellationToken cancellationToken = default) =>
        SubscribeOnAsync(_main, RedisSubscriptionKind.Pattern, pattern, handler, _patterns, cancellationToken);

    public Task UnsubscribeAsync(string channel, CancellationToken cancellationToken = default) =>
        UnsubscribeOnAsync(_main, RedisSubscriptionKind.Channel, channel, _channels, cancellationToken);

    public Task PUnsubscribeAsync(string pattern, CancellationToken cancellationToken = default) =>
        UnsubscribeOnAsync(_main, RedisSubscriptionKind.Pattern, pattern, _patterns, cancellationToken);

    /// <summary>
    /// Subscribes to a shard channel (SSUBSCRIBE) on the node owning its slot; after a slot moves the subscription
    /// follows it (on MOVED, on the server dropping it, after a reconnect).
    /// </summary>
    public async Task SSubscribeAsync(string shardChannel, Action<RedisChannelMessage> handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var subscription = _shards.AddOrUpdate(shardChannel, _ => new ShardSubscription(handler), (_, s) => s.WithHandler(handler));
        await EnsureShardSubscribedAsync(shardChannel, subscription, cancellationToken);
    }

    public async Task SUnsubscribeAsync(string shardChannel, CancellationToken cancellationToken = default)
    {
        if (!_shards.TryRemove(shardChannel, out var subscription) || subscription.Node is not { } node)
        {
            return;
        }

        await UnsubscribeFromNodeAsync(node, RedisSubscriptionKind.Shard, shardChannel, cancellationToken);
    }

    private async Task SubscribeOnAsync(RedisNode node, RedisSubscriptionKind kind, string name, Action<RedisChannelMessage> handler,
        ConcurrentDictionary<string, Action<RedisChannelMessage>> handlers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handler);
        handlers[name] = handler;
        var connection = await node.GetSubscriberAsync().WaitAsync(cancellationToken);
        if (!connection.Track(kind, name))
        {
            return;
        }

        var (verb, ack) = RedisConnection.SubscribeVerb(kind);
        var reply = await connection.ExecuteAsync(RedisCommand.Create(verb, name), ack, cancellationToken);
        if (reply.IsError)
        {
            connection.Untrack(kind, name);
            handlers.TryRemove(name, out _);
            throw new RedisServerException(reply.ErrorMessage!);
        }
    }

    private async Task UnsubscribeOnAsync(RedisNode node, RedisSubscriptionKind kind, string name,
        ConcurrentDictionary<string, Action<RedisChannelMessage>> handlers, CancellationToken cancellationToken)
    {
        handlers.TryRemove(name, out _);
        await UnsubscribeFromNodeAsync(node, kind, name, cancellationToken);
    }

    private static async Task UnsubscribeFromNodeAsync(RedisNode node, RedisSubscriptionKind kind, string name, CancellationToken cancellationToken)
    {
        RedisConnection connection;
        try
        {
            connection = await node.GetSubscriberAsync().WaitAsync(cancellationToken);
        }
        catch (RedisConnectionException)
        {
            return;
        }

        if (!connection.Untrack(kind, name))
        {
            return;
        }

        var (verb, ack) = RedisConnection.UnsubscribeVerb(kind);
        try
        {
            await connection.ExecuteAsync(RedisCommand.Create(verb, name), ack, cancellationToken);
        }
        catch (RedisConnectionException)
        {
            // Down: it is no longer tracked, so the reconnect will not restore it.
        }
    }

    private async Task EnsureShardSubscribedAsync(string channel, ShardSubscription subscription, CancellationToken cancellationToken)
    {
        int slot = RedisHashSlot.Of(channel);
        for (int attempt = 0; ; attempt++)
        {
            var owner = IsCluster ? Route(slot) : _main;
            var previous = subscription.Node;
            if (previous is not null && previous != owner)
            {
                RedisLog.ShardChannelMoved(_logger, channel, previous.Endpoint, owner.Endpoint);
                await UnsubscribeFromNodeAsync(previous, RedisSubscriptionKind.Shard, channel, cancellationToken);
            }

            subscription.Node = owner;
            var connection = await owner.GetSubscriberAsync().WaitAsync(cancellationToken);
            if (!connection.Track(RedisSubscriptionKind.Shard, channel))
            {
                return;
            }

            var reply = await connection.ExecuteAsync(RedisCommand.Create("SSUBSCRIBE", channel), "ssubscribe"u8.ToArray(), cancellationToken);
            if (!reply.IsError)
            {
                return;
            }

            connection.Untrack(RedisSubscriptionKind.Shard, channel);
            if (attempt < MaxRedirects && TryParseRedirect(reply.ErrorMessage!, "MOVED ", out int movedSlot, out string endpoint))
            {
                RedisLog.Redirected(_logger, reply.ErrorMessage!, "SSUBSCRIBE");
                _slots[movedSlot] = GetNode(endpoint, selectDatabase: false);
                _ = RequestSlotMapRefresh();
                continue;
            }

            if (_shards.TryGetValue(channel, out var current) && current == subscription)
            {
                _shards.TryRemove(channel, out _);
            }

            throw new RedisServerException(reply.ErrorMessage!);
        }
    }

    private async Task<RedisReply> ExecuteRawAsync(RedisCommand command, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (!IsCluster)
        {
            return await (await _main.GetCommandsAsync()).ExecuteAsync(command, cancellationToken);
        }

        var node = command.Slot < 0 ? AnyNode() : Route(command.Slot);
        bool asking = false;
        for (int attempt = 0; ; attempt++)
        {
            RedisReply reply;
            try
            {
                var connection = await node.GetCommandsAsync().WaitAsync(cancellationToken);
                if (asking)
                {
                    // ASKING and the command go out back to back on the same connection: ASKING applies to the next command only.
                    var askingReply = connection.ExecuteAsync(RedisCommand.Create("ASKING"), cancellationToken);
                    var commandReply = connection.ExecuteAsync(command, cancellationToken);
                    await askingReply;
                    reply = await commandReply;
                    asking = false;
                }
                else
                {
                    reply = await connection.ExecuteAsync(command, cancellationToken);
                }
            }
            catch (RedisConnectionException)
            {
                // The master may be gone for good (failover): look at the map again so later commands find the new owner.
                _ = RequestSlotMapRefresh();
                throw;
            }

            if (!reply.IsError || attempt >= MaxRedirects)
            {
                return reply;
            }

            string error = reply.ErrorMessage!;
            if (TryParseRedirect(error, "MOVED ", out int slot, out string endpoint))
            {
                RedisLog.Redirected(_logger, error, command.Name);
                node = GetNode(endpoint, selectDatabase: false);
                _slots[slot] = node;
                _ = RequestSlotMapRefresh();
            }
            else if (TryParseRedirect(error, "ASK ", out _, out endpoint))
            {
                // ASK is a one-off (the slot is migrating): no map change.
                RedisLog.Redirected(_logger, error, command.Name);
                node = GetNode(endpoint, selectDatabase: false);
                asking = true;
            }
            else if (error.StartsWith("TRYAGAIN", StringComparison.Ordinal))
            {
                // A multi-key command during resharding: the keys will be together again shortly.
                await Task.Delay(TimeSpan.FromMilliseconds(25 * (attempt + 1)), cancellationToken);
            }
            else
            {
                return reply;
            }
        }
    }

    private static bool TryParseRedirect(string error, string prefix, out int slot, out string endpoint)
    {
        slot = 0;
        endpoint = string.Empty;
        if (!error.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = error.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 3 || !int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out slot))
        {
            return false;
        }

        endpoint = parts[2];
        return true;
    }

    private RedisNode Route(int slot) => Volatile.Read(ref _slots)[slot] ?? AnyNode();

    /// <summary>For keyless commands: the seed node while it is up, else any master whose command connection is up.</summary>
    private RedisNode AnyNode()
    {
        if (_main.OpenedConnections().Any(c => !c.IsSubscriber && c.IsConnected))
        {
            return _main;
        }

        return _nodes.Values.FirstOrDefault(n => n.OpenedConnections().Any(c => !c.IsSubscriber && c.IsConnected)) ?? _main;
    }

    private RedisNode GetNode(string endpoint, bool selectDatabase) =>
        _nodes.GetOrAdd(endpoint, e => new RedisNode(e, _options, _logger, selectDatabase, Wire, OnPush));

    private void Wire(RedisConnection connection)
    {
        connection.ConnectionLost += args =>
        {
            if (IsCluster && !args.IsSubscriber)
            {
                _ = RequestSlotMapRefresh();
            }

            ConnectionLost?.Invoke(args);
        };
        connection.Reconnected += args =>
        {
            // The server may have restarted with another slot layout: look again, and move shard subscriptions if needed.
            if (IsCluster)
            {
                _ = RequestSlotMapRefresh();
            }

            Reconnected?.Invoke(args);
        };
    }

    /// <summary>Reloads the slot map in the background (one refresh at a time), then moves shard subscriptions whose slot changed owner.</summary>
    internal Task RequestSlotMapRefresh()
    {
        lock (_refreshGate)
        {
            if (_refresh is { IsCompleted: false })
            {
                return _refresh;
            }

            _refresh = RefreshAsync();
            return _refresh;
        }
    }

    private async Task RefreshAsync()
    {
        await Task.Yield();
        foreach (var node in _nodes.Values.OrderBy(n => n == _main ? 0 : 1))
        {
            try
            {
                var connection = await node.GetCommandsAsync();
                await LoadSlotMapAsync(connection, CancellationToken.None);
                break;
            }
            catch (Exception ex) when (ex is RedisConnectionException or RedisServerException or TimeoutException or RedisProtocolException)
            {
                RedisLog.SlotMapFailed(_logger, ex);
            }
        }

        foreach (var (channel, subscription) in _shards)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            var owner = Route(RedisHashSlot.Of(channel));
            if (subscription.Node == owner && owner.OpenedConnections().Any(c => c.IsSubscriber && c.IsTracked(RedisSubscriptionKind.Shard, channel)))
            {
                continue;
            }

            try
            {
                await EnsureShardSubscribedAsync(channel, subscription, CancellationToken.None);
            }
            catch (Exception ex) when (ex is RedisConnectionException or RedisServerException or TimeoutException)
            {
                RedisLog.ResubscribeFailed(_logger, channel, ex.Message);
            }
        }
    }

    /// <summary>Reads CLUSTER SLOTS: [start, end, [host, port, id], replicas...] per range; masters only.</summary>
    private async Task LoadSlotMapAsync(RedisConnection connection, CancellationToken cancellationToken)
    {
        var reply = await connection.ExecuteAsync(RedisCommand.Create("CLUSTER", "SLOTS"), cancellationToken);
        if (reply.IsError)
        {
            throw new RedisServerException(reply.ErrorMessage!);
        }

        var (seedHost, _) = RedisTransport.ParseEndpoint(connection.Endpoint);
        var slots = new RedisNode?[RedisHashSlot.Count];
        var masters = new HashSet<RedisNode>();
        foreach (var range in reply.AsArray() ?? [])
        {
            var items = range.AsArray()!;
            int start = (int)items[0].AsInt64();
            int end = (int)items[1].AsInt64();
            var master = items[2].AsArray()!;
            string host = RedisConnection.Decode(master[0]);
            // An empty or unknown host means "the address you reached me at".
            if (host.Length == 0 || host == "?")
            {
                host = seedHost;
            }

            var node = GetNode($"{host}:{master[1].AsInt64()}", selectDatabase: false);
            masters.Add(node);
            for (int slot = start; slot <= end && slot < slots.Length; slot++)
            {
                slots[slot] = node;
            }
        }

        Volatile.Write(ref _slots, slots);
        RedisLog.SlotMapLoaded(_logger, connection.Endpoint, masters.Count);
    }

    /// <summary>
    /// The masters of the current slot map (the one server when standalone), for commands that must visit every
    /// node, such as a <c>SCAN</c> of keys spread over the slots. Pair with <see cref="ExecuteOnAsync"/>.
    /// </summary>
    internal IReadOnlyList<string> GetMasterEndpoints()
    {
        if (!IsCluster)
        {
            return [_main.Endpoint];
        }

        var masters = new List<string>();
        foreach (var node in Volatile.Read(ref _slots))
        {
            if (node is not null && !masters.Contains(node.Endpoint, StringComparer.OrdinalIgnoreCase))
            {
                masters.Add(node.Endpoint);
            }
        }

        return masters;
    }

    /// <summary>Runs a command on one node, whatever its keys (no redirect is followed); an error reply throws.</summary>
    internal async Task<RedisReply> ExecuteOnAsync(string endpoint, RedisCommand command, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var node = IsCluster ? GetNode(endpoint, selectDatabase: false) : _main;
        var connection = await node.GetCommandsAsync().WaitAsync(cancellationToken);
        var reply = await connection.ExecuteAsync(command, cancellationToken);
        return reply.IsError ? throw new RedisServerException(reply.ErrorMessage!) : reply;
    }

    /// <summary>The endpoint serving a slot in the current map (tests and diagnostics).</summary>
    internal string GetEndpointForSlot(int slot) => Route(slot).Endpoint;

    /// <summary>Points a slot at another node, as a stale map would (tests).</summary>
    internal void SetSlotOwnerForTesting(int slot, string endpoint) => _slots[slot] = GetNode(endpoint, selectDatabase: false);

    private void OnPush(RedisConnection connection, RedisReply push)
    {
        var items = push.AsArray()!;
        var kind = items[0];
        if (kind.EqualsAscii("message"u8))
        {
            Deliver(_channels, RedisSubscriptionKind.Channel, RedisConnection.Decode(items[1]), null, items[2]);
        }
        else if (kind.EqualsAscii("smessage"u8))
        {
            string channel = RedisConnection.Decode(items[1]);
            if (_shards.TryGetValue(channel, out var subscription))
            {
                Invoke(subscription.Handler, new RedisChannelMessage(RedisSubscriptionKind.Shard, channel, null, items[2].AsBytes()), channel);
            }
        }
        else if (kind.EqualsAscii("pmessage"u8))
        {
            string pattern = RedisConnection.Decode(items[1]);
            if (_patterns.TryGetValue(pattern, out var handler))
            {
                string channel = RedisConnection.Decode(items[2]);
                Invoke(handler, new RedisChannelMessage(RedisSubscriptionKind.Pattern, channel, pattern, items[3].AsBytes()), channel);
            }
        }
        else if (kind.EqualsAscii("sunsubscribe"u8))
        {
            // The server dropped a shard subscription on its own: its slot moved. Find the new owner and subscribe there.
            string channel = RedisConnection.Decode(items[1]);
            connection.Untrack(RedisSubscriptionKind.Shard, channel);
            if (_shards.ContainsKey(channel))
            {
                _ = RequestSlotMapRefresh();
            }
        }
    }

    private void Deliver(ConcurrentDictionary<string, Action<RedisChannelMessage>> handlers, RedisSubscriptionKind kind, string channel, string? pattern, RedisReply payload)
    {
        if (handlers.TryGetValue(channel, out var handler))
        {
            Invoke(handler, new RedisChannelMessage(kind, channel, pattern, payload.AsBytes()), channel);
        }
    }

    private void Invoke(Action<RedisChannelMessage> handler, RedisChannelMessage message, string channel)
    {
        try
        {
            handler(message);
        }
        catch (Exception ex)
        {
            // A handler's bug must not stop the read loop that serves every other subscription.
            RedisLog.HandlerFailed(_logger, channel, ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var node in _nodes.Values)
        {
            await node.DisposeAsync();
        }
    }

    private sealed class ShardSubscription(Action<RedisChannelMessage> handler)
    {
        public Action<RedisChannelMessage> Handler { get; private set; } = handler;

        /// <summary>The node it was last subscribed on (null before the first subscribe).</summary>
        public volatile RedisNode? Node;

        public ShardSubscription WithHandler(Action<RedisChannelMessage> handler)
        {
            Handler = handler;
            return this;
        }
    }
}
