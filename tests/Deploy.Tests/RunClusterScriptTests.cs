using System.Net;

namespace OrleansRooms.Deploy;

/// <summary>deploy/run-cluster.sh itself: start, status, idempotent start, stop.</summary>
public sealed class RunClusterScriptTests
{
    [Fact]
    public async Task Start_is_idempotent_and_stop_ends_every_process_it_started()
    {
        await using var cluster = await LocalCluster.StartAsync(gateways: 2, nginx: false);
        Assert.Equal(["gateway-1", "gateway-2", "redis"], cluster.Pids.Keys.Order(StringComparer.Ordinal));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        foreach (var port in cluster.GatewayPorts)
        {
            using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("Healthy", await response.Content.ReadAsStringAsync()); // the orleansrooms-cluster check: Redis reached, lease held
        }

        var again = await LocalCluster.RunScriptAsync(["start", "--gateways", "2", "--run-dir", cluster.RunDir]);
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Contains("already running", again.Output, StringComparison.Ordinal);

        var status = await LocalCluster.RunScriptAsync(["status", "--run-dir", cluster.RunDir]);
        Assert.True(status.ExitCode == 0, status.Output);
        Assert.Contains("gateway-2 up", status.Output, StringComparison.Ordinal);

        var stop = await LocalCluster.RunScriptAsync(["stop", "--run-dir", cluster.RunDir]);
        Assert.True(stop.ExitCode == 0, stop.Output);
        Assert.All(cluster.Pids, p => Assert.False(LocalCluster.IsAlive(p.Value), $"{p.Key} ({p.Value}) still runs"));

        var stopAgain = await LocalCluster.RunScriptAsync(["stop", "--run-dir", cluster.RunDir]);
        Assert.True(stopAgain.ExitCode == 0, stopAgain.Output);
    }
}
