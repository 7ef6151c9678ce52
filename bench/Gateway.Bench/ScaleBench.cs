using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using OrleansRooms;
using OrleansRooms.Engine;
using OrleansRooms.Grains.Naming;
using OrleansRooms.Grains.Rooms;
using Microsoft.Extensions.DependencyInjection;
using OrleansRooms.TestCluster;

/// <summary>
/// <c>--scale</c>: the membership relation at a million, on three gateways of an Orleans test cluster in one process.
/// The sockets are simulated in-process (a connection that writes nowhere), so what is measured is everything else:
/// each socket connects through its namespace (middleware, its session grain, the gateway's table), joins and leaves
/// through its own queue, its session and the room grains, and a broadcast walks each gateway's table and writes to
/// every member's connection. Phases: connects; every socket joins one hot room; broadcasts to it (each awaited: the
/// time until every gateway has written to its members); every socket leaves it; every socket joins a room of its
/// own (a million rooms). Memory is the managed heap after a full collection.
/// </summary>
internal static class ScaleBench
{
    public static async Task<int> RunAsync(int members, int broadcasts, int inFlight, int churnSeconds, int gateways)
    {
        var memberSetBytes = MemberSetBytes(members);
        await using var cluster = new OrleansGatewayCluster(gateways);
        await cluster.StartAsync();
        var clients = cluster.Gateways.Select(g => SimulatedSockets.For(g.Io)).ToArray();
        var connectedSockets = new System.Collections.Concurrent.ConcurrentQueue<Socket>();
        foreach (var gateway in cluster.Gateways)
        {
            gateway.Io.OnConnection(connectedSockets.Enqueue);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"scale: {members:N0} simulated sockets over {clients.Length} gateways, {inFlight} operations in flight"));

        var baseline = Heap();
        var connects = await TimeAsync(members, inFlight, i => clients[i % clients.Length].ConnectAsync());
        var sockets = connectedSockets.ToArray();
        var connected = Heap();
        Report("connect", members, connects, connected - baseline);

        if (churnSeconds > 0)
        {
            // For profiling: joins and leaves of the hot room, over and over, for a while.
            var churn = Stopwatch.StartNew();
            var done = 0L;
            while (churn.Elapsed.TotalSeconds < churnSeconds)
            {
                await TimeAsync(members, inFlight, i => sockets[i].JoinAsync("hot").AsTask());
                await TimeAsync(members, inFlight, i => sockets[i].LeaveAsync("hot").AsTask());
                done += 2L * members;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"churn: {done:N0} joins and leaves in {churn.Elapsed.TotalSeconds:F1} s = {done / churn.Elapsed.TotalSeconds:N0}/s"));
        }

        var joins = await TimeAsync(members, inFlight, i => sockets[i].JoinAsync("hot").AsTask());
        var joined = Heap();
        Report("join one hot room", members, joins, joined - connected);
        var count = await cluster.Gateways[0].Io.Sockets.Adapter.GetRoomMemberCountAsync("hot");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  the hot room's grain counts {count:N0} members"));

        var latencies = new List<double>(broadcasts);
        var io = cluster.Gateways[0].Io;
        for (var i = 0; i < broadcasts; i++)
        {
            var before = SimulatedSockets.Writes;
            var clock = Stopwatch.StartNew();
            await io.To("hot").EmitAsync("m", i);
            latencies.Add(clock.Elapsed.TotalMilliseconds);
            if (SimulatedSockets.Writes - before != members)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  broadcast {i} reached {SimulatedSockets.Writes - before:N0} of {members:N0}"));
                return 1;
            }
        }

        latencies.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"broadcast to the hot room: {broadcasts} broadcasts, each reaching all {members:N0} members; p50 {Percentile(latencies, 0.5):F1} ms, p99 {Percentile(latencies, 0.99):F1} ms, max {latencies[^1]:F1} ms"));

        // A room grain lost with its silo comes back from the sessions: how long the first call after the loss waits.
        var hot = RoomGrains.Of(cluster.Gateways[0].Services.GetRequiredService<IGrainFactory>(), "/", "hot");
        await cluster.Orleans.DeactivateAsync(hot);
        var rebuild = Stopwatch.StartNew();
        var rebuilt = await hot.CountAsync();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rebuild the hot room from the sessions: {rebuilt:N0} members back in {rebuild.Elapsed.TotalMilliseconds:F0} ms"));

        var leaves = await TimeAsync(members, inFlight, i => sockets[i].LeaveAsync("hot").AsTask());
        Report("leave the hot room", members, leaves, Heap() - joined);

        var beforeRooms = Heap();
        var own = await TimeAsync(members, inFlight, i => sockets[i].JoinAsync("room-" + i.ToString(CultureInfo.InvariantCulture)).AsTask());
        Report("join a room of its own", members, own, Heap() - beforeRooms);

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"a room grain's members alone: {memberSetBytes / (double)members:F1} B per member (a set of {members:N0} socket keys, measured before the cluster started)"));
        return 0;
    }

    private static void Report(string phase, int operations, TimeSpan elapsed, long heapBytes) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{phase}: {operations:N0} in {elapsed.TotalSeconds:F1} s = {operations / elapsed.TotalSeconds:N0}/s; heap +{heapBytes / (1024.0 * 1024):F0} MiB = {heapBytes / (double)operations:F0} B each"));

    private static async Task<TimeSpan> TimeAsync(int count, int inFlight, Func<int, Task> operation)
    {
        var clock = Stopwatch.StartNew();
        var next = -1;
        var workers = new Task[inFlight];
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                {
                    await operation(i);
                }
            });
        }

        await Task.WhenAll(workers);
        return clock.Elapsed;
    }

    private static long Heap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static long MemberSetBytes(int members)
    {
        var gateway = SiloAddress.New(System.Net.IPAddress.Loopback, 1, 1);
        var before = Heap();
        var set = new MemberSets();
        for (var i = 0; i < members; i++)
        {
            set.Add(SocketKey.Parse(SocketIds.New()), gateway);
        }

        var bytes = Heap() - before;
        GC.KeepAlive(set);
        return bytes;
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];
}
