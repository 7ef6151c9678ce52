using Microsoft.Extensions.DependencyInjection;
using OrleansRooms.Silo;
using OrleansRooms.Silo.Grains;
using OrleansRooms.Specification;

namespace OrleansRooms.TestCluster;

/// <summary>
/// Several gateways in one process sharing rooms through a real Redis, in the spirit of Orleans' TestCluster: start N
/// gateways on loopback ports, add one, stop one gracefully, kill one abruptly, restart Redis. Short heartbeat and lease
/// times keep failure detection fast.
/// </summary>
public sealed class RedisGatewayCluster : IGatewayCluster
{
    private readonly List<GatewayNode> _gateways = [];
    private readonly int _initialGateways;
    private readonly bool _redisCluster;
    private readonly bool _ownsRedis = true;
    private readonly string _keyPrefix = "orleansrooms";

    /// <summary>A cluster with its own redis-server (or its own three-master Redis Cluster).</summary>
    public RedisGatewayCluster(int gateways = 3, bool redisCluster = false)
    {
        _initialGateways = gateways;
        _redisCluster = redisCluster;
    }

    /// <summary>
    /// A cluster on a Redis Cluster shared with other tests (starting one takes seconds); a key prefix of its own
    /// keeps its state apart.
    /// </summary>
    public RedisGatewayCluster(RedisClusterServers shared, int gateways = 3)
    {
        _initialGateways = gateways;
        _redisCluster = true;
        _ownsRedis = false;
        RedisCluster = shared;
        _keyPrefix = "t" + Guid.NewGuid().ToString("N")[..12];
    }

    /// <summary>The standalone Redis (null when running on a Redis Cluster).</summary>
    public RedisServer? Redis { get; private set; }

    /// <summary>The Redis Cluster masters (null on a standalone Redis).</summary>
    public RedisClusterServers? RedisCluster { get; private set; }

    public IReadOnlyList<GatewayNode> Gateways => _gateways;

    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromMilliseconds(600);

    /// <summary>How long cluster requests wait for other gateways' answers (<see cref="SocketIOOptions.ClusterRequestTimeout"/>).</summary>
    public TimeSpan ClusterRequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public async Task StartAsync()
    {
        if (!_ownsRedis)
        {
        }
        else if (_redisCluster)
        {
            RedisCluster = await RedisClusterServers.StartAsync(3);
        }
        else
        {
            Redis = await RedisServer.StartAsync();
        }

        for (var i = 0; i < _initialGateways; i++)
        {
            await AddGatewayAsync();
        }
    }

    /// <summary>Starts one more gateway and returns it.</summary>
    public async Task<GatewayNode> AddGatewayAsync()
    {
        var endpoints = _redisCluster ? RedisCluster!.Endpoints : [Redis!.Endpoint];
        var node = await GatewayNode.StartAsync(
            configureServices: services => services.AddSocketIORedis(o =>
            {
                foreach (var endpoint in endpoints)
                {
                    o.Endpoints.Add(endpoint);
                }

                o.HeartbeatInterval = HeartbeatInterval;
                o.LeaseDuration = LeaseDuration;
                o.KeyPrefix = _keyPrefix;
            }),
            configureOptions: o => o.ClusterRequestTimeout = ClusterRequestTimeout);
        _gateways.Add(node);
        return node;
    }

    /// <summary>This gateway's id in the cluster.</summary>
    public static string GatewayIdOf(GatewayNode gateway) => gateway.Services.GetRequiredService<RedisRoomGrainFactory>().GatewayId;

    /// <summary>Stops a gateway cleanly: its sessions close and its sockets leave their rooms at once.</summary>
    public async Task StopGatewayAsync(GatewayNode gateway)
    {
        _gateways.Remove(gateway);
        await gateway.DisposeAsync();
    }

    /// <summary>
    /// Kills a gateway: it stops heartbeating and drops its Redis connections without any cleanup, as a killed process
    /// would, then its connections close. The other gateways must reap its sockets when its lease expires.
    /// </summary>
    public async Task KillGatewayAsync(GatewayNode gateway)
    {
        _gateways.Remove(gateway);
        await gateway.Services.GetRequiredService<RedisRoomGrainFactory>().AbandonAsync();
        await gateway.DisposeAsync();
    }

    /// <summary>Waits until <paramref name="condition"/> holds, checking every 20 ms, or fails after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string description)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#}s waiting until {description}.");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var gateway in _gateways.ToArray())
        {
            await gateway.DisposeAsync();
        }

        _gateways.Clear();
        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }

        if (RedisCluster is not null && _ownsRedis)
        {
            await RedisCluster.DisposeAsync();
        }
    }
}
