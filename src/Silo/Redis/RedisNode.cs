using Microsoft.Extensions.Logging;

namespace OrleansRooms.Silo.Redis;

/// <summary>One Redis server (a standalone server or a cluster master): its command connection and, once needed, its pub/sub connection.</summary>
internal sealed class RedisNode(string endpoint, RedisOptions options, ILogger logger, bool selectDatabase,
    Action<RedisConnection> wire, Action<RedisConnection, RedisReply> onPush) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private Task<RedisConnection>? _commands;
    private Task<RedisConnection>? _subscriber;

    public string Endpoint { get; } = endpoint;

    public Task<RedisConnection> GetCommandsAsync() => Get(ref _commands, subscriber: false);

    public Task<RedisConnection> GetSubscriberAsync() => Get(ref _subscriber, subscriber: true);

    /// <summary>The connections opened so far (for <c>IsConnected</c> and disposal).</summary>
    public IEnumerable<RedisConnection> OpenedConnections()
    {
        if (_commands is { IsCompletedSuccessfully: true } commands)
        {
            yield return commands.Result;
        }

        if (_subscriber is { IsCompletedSuccessfully: true } subscriber)
        {
            yield return subscriber.Result;
        }
    }

    private Task<RedisConnection> Get(ref Task<RedisConnection>? slot, bool subscriber)
    {
        lock (_gate)
        {
            // A failed first connect is not cached: the next caller tries again.
            if (slot is null || slot.IsFaulted || slot.IsCanceled)
            {
                slot = OpenAsync(subscriber);
            }

            return slot;
        }
    }

    private async Task<RedisConnection> OpenAsync(bool subscriber)
    {
        var connection = new RedisConnection(Endpoint, options, logger, selectDatabase, subscriber ? onPush : null);
        try
        {
            await connection.ConnectAsync(CancellationToken.None);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        wire(connection);
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var task in new[] { _commands, _subscriber })
        {
            if (task is null)
            {
                continue;
            }

            try
            {
                await (await task).DisposeAsync();
            }
            catch (RedisConnectionException)
            {
            }
        }
    }
}
