using System.Globalization;

namespace OrleansRooms.LoadGenerator;

/// <summary>CPU time and resident memory of other processes (the servers, Redis), read from /proc.</summary>
internal static class ProcStat
{
    // USER_HZ is 100 on every Linux the bench targets; /proc/<pid>/stat counts in those ticks.
    private const double TicksPerSecond = 100.0;

    /// <summary>utime + stime of the process and its threads, in seconds.</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) may hold spaces; fields after the last ')' are fixed.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }

    /// <summary>VmRSS in bytes.</summary>
    public static long RssBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    public static double CpuSeconds(IEnumerable<int> pids) => pids.Sum(CpuSeconds);

    public static long RssBytes(IEnumerable<int> pids) => pids.Sum(RssBytes);
}
