using System.Diagnostics;
using System.Globalization;
using OrleansRooms.Grains.Naming;
using OrleansRooms.TestCluster;
using StackExchange.Redis;

/// <summary>
/// <c>--room-storage</c>: what persisting the room halves would cost, for the choice between persisting them and
/// rebuilding them from the sessions (docs/architecture.md). The least any persisted design writes is one field per
/// join and per leave: here a Redis hash per room, <c>HSET room member gateway</c> then <c>HDEL</c>, from a real
/// redis-server, with many writes in flight (pipelined by StackExchange.Redis). Orleans' own storage providers write a
/// grain's whole state on each write, which for a large room is far more. Reports writes per second and the CPU of this
/// process and of redis-server per write.
/// </summary>
internal static class RoomStorageBench
{
    public static async Task<int> RunAsync(int writes, int inFlight)
    {
        await using var redis = await RedisServer.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = connection.GetDatabase();
        var members = Enumerable.Range(0, 10_000).Select(_ => SocketIds.New()).ToArray();
        var redisPid = redis.ProcessId;

        var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
        var redisBefore = CpuSeconds(redisPid);
        var clock = Stopwatch.StartNew();
        var next = -1;
        var workers = new Task[inFlight];
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < writes / 2)
                {
                    var room = "room-" + (i % 1_000).ToString(CultureInfo.InvariantCulture);
                    var member = members[i % members.Length];
                    await db.HashSetAsync(room, member, "gateway");
                    await db.HashDeleteAsync(room, member);
                }
            });
        }

        await Task.WhenAll(workers);
        clock.Stop();
        self.Refresh();
        var cpu = (self.TotalProcessorTime - cpuBefore).TotalSeconds;
        var redisCpu = CpuSeconds(redisPid) - redisBefore;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"room storage: {writes:N0} writes (HSET then HDEL) in {clock.Elapsed.TotalSeconds:F1} s = {writes / clock.Elapsed.TotalSeconds:N0}/s, {inFlight} in flight; " +
            $"CPU per write: this process {cpu / writes * 1e6:F1} µs, redis-server {redisCpu / writes * 1e6:F1} µs"));
        return 0;
    }

    // utime + stime of /proc/<pid>/stat, in seconds.
    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }
}
