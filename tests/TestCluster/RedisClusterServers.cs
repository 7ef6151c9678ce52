using System.Diagnostics;
using OrleansRooms.Silo.Redis;

namespace OrleansRooms.TestCluster;

/// <summary>
/// A Redis Cluster of masters (no replicas) on free loopback ports, created with <c>redis-cli --cluster create</c>
/// and ready when every node reports <c>cluster_state:ok</c>.
/// </summary>
public sealed class RedisClusterServers : IAsyncDisposable
{
    private readonly List<RedisServer> _nodes;

    private RedisClusterServers(List<RedisServer> nodes) => _nodes = nodes;

    public IReadOnlyList<RedisServer> Nodes => _nodes;

    public IEnumerable<string> Endpoints => _nodes.Select(n => n.Endpoint);

    public static async Task<RedisClusterServers> StartAsync(int masters = 3, CancellationToken cancellationToken = default)
    {
        var nodes = new List<RedisServer>();
        var cluster = new RedisClusterServers(nodes);
        try
        {
            var starts = Enumerable.Range(0, masters).Select(_ => RedisServer.StartAsync(null,
                ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"], cancellationToken));
            nodes.AddRange(await Task.WhenAll(starts));
            await cluster.CreateAsync(cancellationToken);
            await cluster.WaitUntilOkAsync(cancellationToken);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Options for a client of this cluster (every node as a seed, cluster mode explicit).</summary>
    public RedisOptions CreateOptions()
    {
        var options = new RedisOptions { Cluster = true };
        foreach (var endpoint in Endpoints)
        {
            options.Endpoints.Add(endpoint);
        }

        return options;
    }

    /// <summary>The node whose CLUSTER MYID is the given id.</summary>
    internal async Task<string> GetNodeIdAsync(RedisServer node) => (await node.SendAsync("CLUSTER", "MYID")).AsString()!;

    /// <summary>The node serving a slot, as <paramref name="askedNode"/> (default: the first node) sees it.</summary>
    public async Task<RedisServer> GetOwnerAsync(int slot, RedisServer? askedNode = null)
    {
        var slots = (await (askedNode ?? _nodes[0]).SendAsync("CLUSTER", "SLOTS")).AsArray()!;
        foreach (var range in slots)
        {
            var items = range.AsArray()!;
            if (slot >= items[0].AsInt64() && slot <= items[1].AsInt64())
            {
                long port = items[2].AsArray()![1].AsInt64();
                return _nodes.Single(n => n.Port == port);
            }
        }

        throw new InvalidOperationException($"No node serves slot {slot}.");
    }

    /// <summary>
    /// Kills a node if it runs and starts it again on the same port; it keeps its nodes.conf, so it rejoins as the same
    /// master of the same slots (with no data). Returns once every node reports <c>cluster_state:ok</c> again.
    /// </summary>
    public async Task RestartNodeAsync(RedisServer node, CancellationToken cancellationToken = default)
    {
        await node.RestartAsync(cancellationToken);
        await WaitUntilOkAsync(cancellationToken);
    }

    private async Task CreateAsync(CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(RedisServer.FindOnPath("redis-cli"))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("--cluster");
        start.ArgumentList.Add("create");
        foreach (var endpoint in Endpoints)
        {
            start.ArgumentList.Add(endpoint);
        }

        start.ArgumentList.Add("--cluster-replicas");
        start.ArgumentList.Add("0");
        start.ArgumentList.Add("--cluster-yes");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("redis-cli did not start.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("redis-cli --cluster create did not finish within 30 s.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"redis-cli --cluster create failed ({process.ExitCode}): {await output}{await error}");
        }
    }

    private async Task WaitUntilOkAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        foreach (var node in _nodes)
        {
            while (true)
            {
                var info = (await node.SendAsync(["CLUSTER", "INFO"], cancellationToken)).AsString() ?? "";
                var slots = (await node.SendAsync(["CLUSTER", "SLOTS"], cancellationToken)).AsArray()!;
                if (info.Contains("cluster_state:ok", StringComparison.Ordinal) && slots.Length == _nodes.Count)
                {
                    break;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"The Redis cluster did not reach cluster_state:ok on {node.Endpoint}: {info}");
                }

                await Task.Delay(25, cancellationToken);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}
