using Microsoft.Extensions.Logging;
using OrleansRooms.Silo.Tests.Infrastructure;
using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Gateways;

/// <summary>
/// A cluster member dying is an expected event: the survivors say so once, at warning, and log no error for it, even
/// with broadcasts, joins and leaves running through the death.
/// </summary>
public sealed class FailureLoggingTests() : GatewayClusterTest(new OrleansGatewayCluster(gateways: 3))
{
    [Fact]
    public async Task A_killed_gateway_is_logged_once_at_warning_by_each_survivor_and_never_as_an_error()
    {
        var rooms = Enumerable.Range(0, 8).Select(i => "room" + i).ToArray();
        var sockets = new List<Socket>();
        for (var i = 0; i < 12; i++)
        {
            var node = Cluster.Gateways[i % 3];
            var client = await TestClient.ConnectAsync(node.Url);
            Clients.Add(client);
            var socket = node.Io.Sockets.Sockets[client.Id];
            await socket.JoinAsync(rooms[i % rooms.Length]);
            sockets.Add(socket);
        }

        var survivors = Cluster.Gateways.Take(2).ToList();
        var logs = survivors.Select(g => LogCapture.Attach(g.Services, "")).ToList();
        var doomed = Cluster.Gateways[2];
        var doomedSilo = Cluster.SiloOf(doomed);

        // Traffic through the death: broadcasts to every room, and the survivors' sockets joining and leaving (a change
        // that failed would fail the test).
        var churning = sockets.Where(s => s.Server != doomed.Io).ToList();
        using var stop = new CancellationTokenSource();
        var traffic = Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                await survivors[n % 2].Io.To(rooms[n % rooms.Length]).EmitAsync("tick", n);
                var socket = churning[n % churning.Count];
                await socket.JoinAsync("churn");
                await socket.LeaveAsync("churn");
            }
        });

        await Cluster.KillGatewayAsync(doomed);
        var adapter = survivors[0].Io.Sockets.Adapter;
        foreach (var room in rooms)
        {
            await Eventually.HoldsAsync(async () => (await adapter.GetRoomMembersAsync(room)).All(id => survivors.Any(g => g.Io.Sockets.Sockets.ContainsKey(id))), "the rooms clean", TimeSpan.FromSeconds(30));
        }

        await stop.CancelAsync();
        await traffic;

        foreach (var log in logs)
        {
            // The capture sees Orleans' own logs too (membership tells of the dead silo).
            Assert.Contains(log.Entries, e => e.Category.StartsWith("Orleans.", StringComparison.Ordinal) && e.Message.Contains(doomedSilo.Endpoint.ToString(), StringComparison.Ordinal));
            Assert.Empty(log.Entries.Where(e => e.Level >= LogLevel.Error).Select(e => $"{e.Level} {e.Category}: {e.Message} {e.Exception?.GetType().Name}"));
            Assert.Single(log.Entries, e => e.Level == LogLevel.Warning && e.Category.EndsWith("ClusterLossHandler", StringComparison.Ordinal) && e.Message.Contains(doomedSilo.ToString(), StringComparison.Ordinal));
        }
    }

}
