using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Cluster;

internal static class ClusterTestOptions
{
    /// <summary>Short intervals so liveness tests finish in about a second; a key prefix per test keeps tests apart on a shared server.</summary>
    public static RedisClusterOptions For(IEnumerable<string> endpoints, bool? cluster, string? prefix = null)
    {
        var options = new RedisClusterOptions
        {
            Cluster = cluster,
            KeyPrefix = prefix ?? NewPrefix(),
            HeartbeatInterval = TimeSpan.FromMilliseconds(100),
            LeaseDuration = TimeSpan.FromMilliseconds(500),
            CommandTimeout = TimeSpan.FromSeconds(2),
            ConnectTimeout = TimeSpan.FromSeconds(2),
        };
        foreach (var endpoint in endpoints)
        {
            options.Endpoints.Add(endpoint);
        }

        return options;
    }

    public static RedisClusterOptions For(RedisServer server, string? prefix = null) => For([server.Endpoint], null, prefix);

    public static string NewPrefix() => "t" + Guid.NewGuid().ToString("N")[..10];
}
