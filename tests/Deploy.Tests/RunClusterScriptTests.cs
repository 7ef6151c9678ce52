using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;

namespace OrleansRooms.Deploy;

/// <summary>deploy/run-cluster.sh itself: start (gateways and a grain-only silo), status, idempotent start, repair, stop.</summary>
public sealed class RunClusterScriptTests
{
    [Fact]
    public async Task Start_is_idempotent_and_stop_ends_every_process_it_started()
    {
        await using var cluster = await LocalCluster.StartAsync(gateways: 2, nginx: false, silos: 1);
        Assert.Equal(["gateway-1", "gateway-2", "redis", "silo-1"], cluster.Pids.Keys.Order(StringComparer.Ordinal));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        foreach (var port in cluster.GatewayPorts.Concat(cluster.SiloPorts))
        {
            using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("Healthy", await response.Content.ReadAsStringAsync()); // a gateway's silo, or the grain-only silo, is active
        }

        // The grain-only silo joined the gateways' cluster (membership in Redis): it sees both of them active, and itself.
        var silo = await http.GetFromJsonAsync<SiloReport>(new Uri($"http://127.0.0.1:{cluster.SiloPorts[0]}/silo"));
        Assert.Equal("Active", silo!.Status);
        Assert.Equal(cluster.OrleansPorts.Select(port => $"127.0.0.1:{port}").Order(StringComparer.Ordinal), silo.ActiveSilos.Select(a => a.Split('@')[0]).Order(StringComparer.Ordinal));

        var again = await LocalCluster.RunScriptAsync(["start", "--gateways", "2", "--run-dir", cluster.RunDir]);
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Contains("already running", again.Output, StringComparison.Ordinal);

        var status = await LocalCluster.RunScriptAsync(["status", "--run-dir", cluster.RunDir]);
        Assert.True(status.ExitCode == 0, status.Output);
        Assert.Contains("gateway-2 up", status.Output, StringComparison.Ordinal);
        Assert.Contains("silo-1 up", status.Output, StringComparison.Ordinal);

        var stop = await LocalCluster.RunScriptAsync(["stop", "--run-dir", cluster.RunDir]);
        Assert.True(stop.ExitCode == 0, stop.Output);
        Assert.All(cluster.Pids, p => Assert.False(LocalCluster.IsAlive(p.Value), $"{p.Key} ({p.Value}) still runs"));

        var stopAgain = await LocalCluster.RunScriptAsync(["stop", "--run-dir", cluster.RunDir]);
        Assert.True(stopAgain.ExitCode == 0, stopAgain.Output);
    }
    [Fact]
    public async Task Status_fails_while_part_of_the_cluster_is_down_and_start_restarts_that_part()
    {
        await using var cluster = await LocalCluster.StartAsync(gateways: 2, nginx: true);
        foreach (var name in new[] { "gateway-2", "nginx" })
        {
            // nginx with its workers, which would otherwise keep its port.
            using var process = Process.GetProcessById(cluster.Pids[name]);
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        var down = await LocalCluster.RunScriptAsync(["status", "--run-dir", cluster.RunDir]);
        Assert.True(down.ExitCode == 1, down.Output);
        Assert.Contains("gateway-1 up", down.Output, StringComparison.Ordinal);
        Assert.Contains("gateway-2 DOWN", down.Output, StringComparison.Ordinal);
        Assert.Contains("nginx DOWN", down.Output, StringComparison.Ordinal);

        var gateway1 = cluster.Pids["gateway-1"];
        var repaired = await LocalCluster.RunScriptAsync(["start", "--nginx", "--run-dir", cluster.RunDir], timeout: TimeSpan.FromSeconds(120));
        cluster.ReadPids();
        Assert.True(repaired.ExitCode == 0, repaired.Output + cluster.Logs());
        Assert.Contains("restarting what is down: gateway-2 nginx", repaired.Output, StringComparison.Ordinal);
        Assert.Equal(gateway1, cluster.Pids["gateway-1"]); // what ran was left alone

        var up = await LocalCluster.RunScriptAsync(["status", "--run-dir", cluster.RunDir]);
        Assert.True(up.ExitCode == 0, up.Output);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        Assert.Equal("Healthy", await http.GetStringAsync(new Uri(cluster.Gateway(2), "/healthz")));
        Assert.Equal("Healthy", await http.GetStringAsync(new Uri(cluster.Nginx, "/healthz")));
    }
}

/// <summary>What a grain-only silo's <c>/silo</c> answers.</summary>
public sealed record SiloReport(string Address, string Status, IReadOnlyList<string> ActiveSilos, IReadOnlyDictionary<string, int> Activations);
