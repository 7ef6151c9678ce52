using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansRooms.Grains;
using OrleansRooms.Silo.Hosting;
using OrleansRooms.Silo.Membership;
using OrleansRooms.Silo.Messaging;
using OrleansRooms.Silo.Compatibility;
using OrleansRooms.Silo.Redis;

namespace OrleansRooms.Silo.Grains;

/// <summary>
/// One gateway's membership in the Redis cluster engine: the room and socket grains of the namespaces it activates
/// (state in Redis, key layout of docs/cluster.md), routed messaging on its channel, its lease and the reaper,
/// and the re-publish of its state when Redis loses it. One instance per gateway process, with one
/// <see cref="RedisClient"/>; tests create several in one process to play several gateways.
/// </summary>
internal sealed class RedisRoomGrainFactory : IRoomGrainFactory, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, RedisNamespaceGrains> _namespaces = new(StringComparer.Ordinal);
    private readonly ILogger _logger;
    private RedisClient? _client;
    private ClusterPublisher? _publisher;
    private GatewayLease? _lease;
    private volatile IClusterMessageHandler? _unrouted;
    private volatile int _state; // 0 created, 1 started, 2 stopped

    public RedisRoomGrainFactory(RedisClusterOptions options, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null, ClusterMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        Keys = new ClusterKeys(options.KeyPrefix);
        TimeProvider = timeProvider ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("OrleansRooms.Silo.Cluster");
        Metrics = metrics ?? new ClusterMetrics(null);
        GatewayId = NewGatewayId();
        Store = new RoomStore(() => Client, Keys);
    }

    /// <summary>This gateway's id: 12 random bytes, base64url (unguessable, so no one can address or reap it by guessing).</summary>
    public string GatewayId { get; }

    public RedisClusterOptions Options { get; }

    public ClusterKeys Keys { get; }

    public TimeProvider TimeProvider { get; }

    public ClusterMetrics Metrics { get; }

    internal ILogger Logger => _logger;

    internal RoomStore Store { get; }

    /// <summary>The connected client; throws <see cref="RedisConnectionException"/> before start and after stop, so grain calls fail fast.</summary>
    internal RedisClient Client => _state == 1 && _client is { } client
        ? client
        : throw new RedisConnectionException(_state == 0 ? "The Redis cluster engine is not started yet." : "The Redis cluster engine is stopped.");

    internal ClusterPublisher Publisher => _state == 1 && _publisher is { } publisher ? publisher : throw new RedisConnectionException("The Redis cluster engine is not running.");

    internal bool IsRunning => _state == 1;

    internal GatewayLease Lease => _lease ?? throw new InvalidOperationException("Not started.");

    internal IEnumerable<RedisNamespaceGrains> Namespaces => _namespaces.Values;

    /// <inheritdoc />
    public void SetUnroutedMessageHandler(IClusterMessageHandler handler) =>
        _unrouted = handler ?? throw new ArgumentNullException(nameof(handler));

    /// <inheritdoc />
    public INamespaceGrains ForNamespace(string name, IRoomTableReader localTable)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(localTable);
        var grains = new RedisNamespaceGrains(this, name, localTable);
        _namespaces[name] = grains;
        if (IsRunning && localTable.MemberCount > 0)
        {
            // Activated while running with sockets already in the table: make sure Redis has them.
            _lease?.RequestRecovery("namespace activated");
        }

        return grains;
    }

    internal void Deactivate(RedisNamespaceGrains grains) => ((ICollection<KeyValuePair<string, RedisNamespaceGrains>>)_namespaces).Remove(new(grains.Namespace, grains));

    /// <summary>
    /// Connects, subscribes to this gateway's channel, registers the lease and starts the
    /// heartbeat. Throws <see cref="InvalidOperationException"/> naming the endpoints when Redis is unreachable.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("The Redis cluster engine was already started.");
        }

        try
        {
            _client = await RedisClient.ConnectAsync(Options.ToRedisOptions("orleansrooms-" + GatewayId), _logger, cancellationToken);
        }
        catch (Exception ex) when (ex is RedisConnectionException or TimeoutException or RedisServerException)
        {
            _state = 2;
            string endpoints = Options.Endpoints.Count == 0 ? "localhost:6379" : string.Join(", ", Options.Endpoints);
            throw new InvalidOperationException($"OrleansRooms could not reach Redis at {endpoints} (SocketIO:Redis:Endpoints): {ex.Message}", ex);
        }

        _publisher = new ClusterPublisher(_client, Keys);
        _lease = new GatewayLease(this);
        _client.ConnectionLost += args => ClusterLog.ConnectionLost(_logger, args.Endpoint);
        // The server may have restarted empty: re-publish (coalesced; the heartbeat retries if Redis is not ready yet).
        _client.Reconnected += _ => _lease.RequestRecovery("reconnected");
        try
        {
            string own = Keys.GatewayChannel(GatewayId);
            if (_client.IsCluster)
            {
                await _client.SSubscribeAsync(own, OnMessage, cancellationToken);
            }
            else
            {
                await _client.SubscribeAsync(own, OnMessage, cancellationToken);
            }

            if (Options.EmitterKey.Length > 0)
            {
                // Processes using the official emitter publish to every server; each gateway delivers to its own sockets.
                await EmitterSubscription.StartAsync(_client, Dispatch, Options.EmitterKey, _logger, cancellationToken);
            }

            await _lease.StartAsync(cancellationToken);
        }
        catch
        {
            _state = 2;
            await _client.DisposeAsync();
            throw;
        }

        ClusterLog.Started(_logger, GatewayId, _client.IsCluster ? "Redis Cluster" : "standalone Redis");
    }

    /// <summary>
    /// Clean stop: stops the heartbeat, removes this gateway's sockets from every room, its index and its lease at once
    /// (no waiting for the reaper), then disconnects.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 2, 1) != 1)
        {
            return;
        }

        var client = _client!;
        await _lease!.StopAsync();
        try
        {
            var store = new RoomStore(() => client, Keys);
            int removed = await store.RemoveGatewaySocketsAsync(GatewayId, cancellationToken);
            await client.ExecuteAsync(RedisCommand.WithKey("ZREM", Keys.Gateways, GatewayId), cancellationToken);
            ClusterLog.Stopped(_logger, GatewayId, removed);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisServerException or TimeoutException or OperationCanceledException)
        {
            // Redis is away: the other gateways' reaper will clear this gateway when its lease expires.
            Metrics.Failure("stop");
            ClusterLog.OperationFailed(_logger, "stop", ex);
        }
        finally
        {
            _lease.Dispose();
            await client.DisposeAsync();
        }
    }

    /// <summary>Stops without any cleanup, as a killed process would (tests of the reaper).</summary>
    internal async Task AbandonAsync()
    {
        if (Interlocked.Exchange(ref _state, 2) != 1)
        {
            return;
        }

        await _lease!.StopAsync();
        _lease.Dispose();
        await _client!.DisposeAsync();
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    /// <summary>Runs a grain operation; failures are counted and logged, then rethrown (the gateway keeps its local state).</summary>
    internal async ValueTask<T> RunAsync<T>(string operation, Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken)
    {
        try
        {
            return await action(cancellationToken);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisServerException or TimeoutException)
        {
            Metrics.Failure(operation);
            throw;
        }
    }

    internal async ValueTask RunAsync(string operation, Func<CancellationToken, Task> action, CancellationToken cancellationToken)
    {
        try
        {
            await action(cancellationToken);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisServerException or TimeoutException)
        {
            Metrics.Failure(operation);
            throw;
        }
    }

    private void OnMessage(RedisChannelMessage received)
    {
        // Runs on the pub/sub read loop: decode (the message owns a copy of the payload) and hand over.
        if (!ClusterMessageCodec.TryDecode(received.Payload.Span, out var message))
        {
            ClusterLog.BadFrame(_logger, received.Channel);
            return;
        }

        Dispatch(message!);
    }

    internal void OnReaped(string ns, string socketId, IReadOnlyList<string> left, IReadOnlyList<string> emptied)
    {
        if (left.Count > 0)
        {
            Dispatch(new ClusterMessage
            {
                Type = ClusterMessageType.Reaped,
                Namespace = ns,
                Source = GatewayId,
                Rooms = left,
                TargetRooms = emptied,
                Data = System.Text.Encoding.UTF8.GetBytes(socketId),
            });
        }
    }

    private void Dispatch(ClusterMessage message)
    {
        // A namespace not activated here still gets its (empty) answers to requests.
        var handler = _namespaces.TryGetValue(message.Namespace, out var grains) ? grains.Handler : _unrouted;
        if (handler is not null)
        {
            try
            {
                handler.OnClusterMessage(message);
            }
            catch (Exception ex)
            {
                ClusterLog.HandlerFailed(_logger, message.Namespace, ex);
            }
        }
    }

    private static string NewGatewayId()
    {
        Span<byte> bytes = stackalloc byte[12];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_');
    }
}
