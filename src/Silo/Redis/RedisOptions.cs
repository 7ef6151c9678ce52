namespace OrleansRooms.Silo.Redis;

/// <summary>How the cluster engine connects to Redis (a standalone server or a Redis Cluster).</summary>
public sealed class RedisOptions
{
    /// <summary>
    /// One or more <c>host:port</c> endpoints. For a standalone server the first is used; for a cluster any reachable
    /// one seeds the slot map. Default: <c>localhost:6379</c>.
    /// </summary>
    public IList<string> Endpoints { get; } = [];

    /// <summary>Password for <c>AUTH</c>, sent on every (re)connect. Default: none.</summary>
    public string? Password { get; set; }

    /// <summary>ACL user for <c>AUTH user password</c>; only used with <see cref="Password"/>. Default: none (the default user).</summary>
    public string? User { get; set; }

    /// <summary>Name set with <c>CLIENT SETNAME</c> on every connection, to tell gateways apart in <c>CLIENT LIST</c>. Default: none.</summary>
    public string? ClientName { get; set; }

    /// <summary>Database selected on a standalone server (a cluster only has database 0). Default: 0.</summary>
    public int Database { get; set; }

    /// <summary>
    /// True for a Redis Cluster, false for a standalone server, null to ask the server (<c>INFO cluster</c>).
    /// Default: null.
    /// </summary>
    public bool? Cluster { get; set; }

    /// <summary>How long a command may wait for its reply before it fails with <see cref="TimeoutException"/>. Default: 5 s.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long opening a connection (TCP connect and handshake) may take. Default: 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Wait before the first reconnect attempt; doubled after each failure up to <see cref="ReconnectMaxDelay"/>. Default: 50 ms.</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Longest wait between reconnect attempts. Default: 2 s, so a restarted Redis is found again quickly.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(2);
}
