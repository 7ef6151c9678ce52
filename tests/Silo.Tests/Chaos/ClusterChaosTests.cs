using OrleansRooms.TestCluster;
using Xunit.Abstractions;

namespace OrleansRooms.Silo.Tests.Chaos;

/// <summary>
/// Three gateways and a grain-only silo whose membership is in a real redis-server, clients joining, leaving and being
/// broadcast to all along, and the faults a cluster meets: gateways killed (one, then two at once in a storm of joins),
/// the grain-only silo killed, the membership store restarted, each followed by its replacement, then one more kill as
/// the operations stop. See <see cref="ChaosRun"/> for the invariants; the seed and duration come from
/// <see cref="ChaosSettings"/>, and every failure names them.
/// </summary>
public sealed class ClusterChaosTests(ITestOutputHelper output) : IAsyncLifetime, IAsyncDisposable
{
    private readonly ChaosSettings _settings = ChaosSettings.FromEnvironment();
    private RedisServer _redis = null!;
    private OrleansGatewayCluster _cluster = null!;
    private ChaosRun? _run;

    public async Task InitializeAsync()
    {
        output.WriteLine($"chaos run: {_settings}");
        _redis = await RedisServer.StartAsync(null, ["--appendonly", "yes", "--appendfsync", "always"]);
        _cluster = new OrleansGatewayCluster(gateways: 3)
        {
            RedisMembership = _redis,
            // Every silo writes its I-am-alive row each second, so a store outage is felt by the membership service.
            Membership = new Dictionary<string, string> { ["IAmAliveTablePublishTimeout"] = "00:00:01" },
        };
        await _cluster.StartAsync();
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    public async Task DisposeAsync()
    {
        if (_run is not null)
        {
            await Task.WhenAll(_run.Clients.Select(c => c.Client.DisposeAsync().AsTask()));
        }

        await _cluster.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task Rooms_stay_one_truth_and_broadcasts_reach_each_member_once_through_killed_gateways_and_silos_and_a_restarted_store()
    {
        _run = new ChaosRun(_cluster, _redis, _settings, output.WriteLine);
        IReadOnlyList<string> broken;
        try
        {
            broken = await _run.RunAsync();
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException($"The chaos run with {_settings} could not go on.", ex);
        }

        foreach (var line in broken)
        {
            output.WriteLine(line);
        }

        Assert.True(broken.Count == 0, string.Join(Environment.NewLine, broken));
    }
}
