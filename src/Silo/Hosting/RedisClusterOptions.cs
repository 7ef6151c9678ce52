using System.ComponentModel.DataAnnotations;
using OrleansRooms.Silo.Redis;

namespace OrleansRooms.Silo;

/// <summary>
/// How a gateway joins the Redis cluster engine (bound from the <c>SocketIO:Redis</c> configuration section by
/// <c>AddSocketIORedis</c>). The defaults suit a production cluster; tests shorten the intervals.
/// </summary>
public sealed class RedisClusterOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "SocketIO:Redis";

    /// <summary>
    /// <c>host:port</c> endpoints: a standalone server, or any nodes of a Redis Cluster (the first reachable one seeds
    /// the slot map). Default: <c>localhost:6379</c>.
    /// </summary>
    public IList<string> Endpoints { get; } = [];

    /// <summary>Password for <c>AUTH</c>. Default: none.</summary>
    public string? Password { get; set; }

    /// <summary>ACL user, used with <see cref="Password"/>. Default: none (the default user).</summary>
    public string? User { get; set; }

    /// <summary>Database on a standalone server (a cluster only has 0). Default: 0.</summary>
    [Range(0, 1023)]
    public int Database { get; set; }

    /// <summary>True for a Redis Cluster, false for a standalone server, null to ask the server. Default: null.</summary>
    public bool? Cluster { get; set; }

    /// <summary>How long a Redis command may wait for its reply. Default: 5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00")]
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long opening a Redis connection may take; start-up fails after it. Default: 5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Prefix of every key and channel, so several applications can share one Redis. Must not contain <c>{</c> or
    /// <c>}</c> (they are the hash-tag delimiters that keep each room's keys in one cluster slot). Default: <c>orleansrooms</c>.
    /// </summary>
    [Required]
    [RegularExpression("^[^{}]+$", ErrorMessage = "SocketIO:Redis:KeyPrefix must not be empty or contain '{' or '}'.")]
    public string KeyPrefix { get; set; } = "orleansrooms";

    /// <summary>How often the gateway renews its lease, checks that Redis kept its data, and looks for dead gateways to reap. Default: 2 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a lease lasts without renewal; a gateway silent for longer is declared dead and its sockets leave
    /// their rooms within <see cref="LeaseDuration"/> + <see cref="HeartbeatInterval"/> (12 s by default). Must be
    /// at least twice <see cref="HeartbeatInterval"/>, so one slow heartbeat does not kill a live gateway. Default: 10 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a cluster-wide request (fetch sockets, server-side emit with ack) waits for the other gateways' answers. Default: 5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:05:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    internal RedisOptions ToRedisOptions(string? clientName)
    {
        var options = new RedisOptions
        {
            Password = Password,
            User = User,
            Database = Database,
            Cluster = Cluster,
            CommandTimeout = CommandTimeout,
            ConnectTimeout = ConnectTimeout,
            ClientName = clientName,
        };
        foreach (var endpoint in Endpoints)
        {
            options.Endpoints.Add(endpoint);
        }

        return options;
    }
}
