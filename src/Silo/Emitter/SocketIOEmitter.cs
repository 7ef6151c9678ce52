using System.Text.Json;
using Microsoft.Extensions.Logging;
using OrleansRooms.Grains;
using OrleansRooms.Silo.Compatibility;
using OrleansRooms.Silo.Grains;
using OrleansRooms.Silo.Messaging;
using OrleansRooms.Silo.Redis;

namespace OrleansRooms.Emitter;

/// <summary>
/// Sends events to the sockets of an OrleansRooms cluster from a process that is not a gateway (a worker, a
/// scheduled job, another service), like Socket.IO's Redis emitter:
/// <code>
/// await using var emitter = new SocketIOEmitter(new SocketIOEmitterOptions { Redis = { Endpoints = { "redis:6379" } } });
/// await emitter.EmitAsync("time", DateTimeOffset.UtcNow);
/// await emitter.Of("/admin").To("room1").Except("room2").EmitAsync("hello", "admins");
/// </code>
/// The Redis connection opens on first use and reconnects by itself. One instance can be shared by the whole
/// process (it is thread-safe); disposing it closes the connection.
/// </summary>
public sealed class SocketIOEmitter : IAsyncDisposable
{
    private readonly SocketIOEmitterOptions _options;
    private readonly ILogger? _logger;
    private readonly EmitterChannels _channels;
    private readonly EmitterOperator _root;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private RedisClient? _client;
    private ClusterPublisher? _publisher;
    private bool _disposed;

    /// <summary>An emitter publishing to the cluster's Redis described by <paramref name="options"/>.</summary>
    public SocketIOEmitter(SocketIOEmitterOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _channels = new EmitterChannels(options.Key);
        _logger = loggerFactory?.CreateLogger<SocketIOEmitter>();
        SerializerOptions = options.JsonSerializerOptions ?? JsonSerializerOptions.Web;
        _root = new EmitterOperator(this, "/", [], [], ClusterMessageFlags.None);
    }

    internal JsonSerializerOptions SerializerOptions { get; }

    /// <summary>Targets the namespace <paramref name="nsp"/> (a leading <c>/</c> is added when missing).</summary>
    public EmitterOperator Of(string nsp)
    {
        ArgumentNullException.ThrowIfNull(nsp);
        return new EmitterOperator(this, nsp.StartsWith('/') ? nsp : "/" + nsp, [], [], ClusterMessageFlags.None);
    }

    /// <inheritdoc cref="EmitterOperator.To(string)"/>
    public EmitterOperator To(string room) => _root.To(room);

    /// <inheritdoc cref="EmitterOperator.To(IEnumerable{string})"/>
    public EmitterOperator To(IEnumerable<string> rooms) => _root.To(rooms);

    /// <inheritdoc cref="EmitterOperator.In(string)"/>
    public EmitterOperator In(string room) => _root.In(room);

    /// <inheritdoc cref="EmitterOperator.In(IEnumerable{string})"/>
    public EmitterOperator In(IEnumerable<string> rooms) => _root.In(rooms);

    /// <inheritdoc cref="EmitterOperator.Except(string)"/>
    public EmitterOperator Except(string room) => _root.Except(room);

    /// <inheritdoc cref="EmitterOperator.Except(IEnumerable{string})"/>
    public EmitterOperator Except(IEnumerable<string> rooms) => _root.Except(rooms);

    /// <inheritdoc cref="EmitterOperator.Volatile"/>
    public EmitterOperator Volatile => _root.Volatile;

    /// <summary>Emits an event to every socket of the main namespace (<c>/</c>).</summary>
    /// <inheritdoc cref="EmitterOperator.EmitAsync(string, object?[])"/>
    public Task EmitAsync(string eventName, params object?[] args) => _root.EmitAsync(eventName, args);

    /// <inheritdoc cref="EmitterOperator.SocketsJoinAsync(string[])"/>
    public Task SocketsJoinAsync(params string[] rooms) => _root.SocketsJoinAsync(rooms);

    /// <inheritdoc cref="EmitterOperator.SocketsLeaveAsync(string[])"/>
    public Task SocketsLeaveAsync(params string[] rooms) => _root.SocketsLeaveAsync(rooms);

    /// <inheritdoc cref="EmitterOperator.DisconnectSocketsAsync(bool)"/>
    public Task DisconnectSocketsAsync(bool close = false) => _root.DisconnectSocketsAsync(close);

    /// <inheritdoc cref="EmitterOperator.ServerSideEmitAsync(string, object?[])"/>
    public Task ServerSideEmitAsync(string eventName, params object?[] args) => _root.ServerSideEmitAsync(eventName, args);

    /// <summary>
    /// With <see cref="SocketIOEmitterOptions.KeyPrefix"/>, routes the message through the cluster (<see cref="ClusterPublisher"/>);
    /// otherwise publishes on the emitter channels (<see cref="EmitterSubscription"/>) in the official emitter's format.
    /// </summary>
    internal async Task PublishAsync(ClusterMessage message)
    {
        var client = await GetClientAsync().ConfigureAwait(false);
        if (_options.KeyPrefix is { } prefix)
        {
            // Native routing, as a gateway publishes (no self: the emitter hosts no socket).
            _publisher ??= new ClusterPublisher(client, new ClusterKeys(prefix));
            await _publisher.PublishAsync(message, self: null).ConfigureAwait(false);
            return;
        }

        var (channel, payload) = EmitterWireFormat.Encode(_channels, message);
        await client.PublishAsync(channel, payload).ConfigureAwait(false);
    }

    private async ValueTask<RedisClient> GetClientAsync()
    {
        if (System.Threading.Volatile.Read(ref _client) is { } client)
        {
            return client;
        }

        await _connectLock.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            // A failed connect is not cached: the next emit tries again.
            return _client ??= await RedisClient.ConnectAsync(_options.Redis, _logger).ConfigureAwait(false);
        }
        finally
        {
            _connectLock.Release();
        }
    }

    /// <summary>Closes the Redis connection.</summary>
    public async ValueTask DisposeAsync()
    {
        await _connectLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_client is { } client)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _connectLock.Release();
        }
    }
}
