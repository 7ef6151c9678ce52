namespace OrleansRooms.LoadGenerator;

/// <summary>
/// Log-linear latency histogram in microseconds (HDR-like): 64 linear sub-buckets per power of two, so any recorded
/// value is reported within 1/64 (1.6 %) of its true value, from 1 µs to 2^36 µs. Thread-safe recording.
/// </summary>
internal sealed class Histogram
{
    private const int SubBits = 6;
    private const int Sub = 1 << SubBits;
    private const int Powers = 37;
    private readonly long[] _counts = new long[Powers * Sub];
    private long _total;

    public long Count => Interlocked.Read(ref _total);

    public void Record(long micros)
    {
        Interlocked.Increment(ref _counts[Index(Math.Max(micros, 0))]);
        Interlocked.Increment(ref _total);
    }

    /// <summary>The value at quantile q (0..1) in milliseconds (the upper edge of its bucket), or -1 without samples.</summary>
    public double PercentileMs(double q)
    {
        var total = Count;
        if (total == 0)
        {
            return -1; // no samples; the report shows "-"
        }

        var rank = (long)Math.Ceiling(q * total);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += Interlocked.Read(ref _counts[i]);
            if (seen >= Math.Max(rank, 1))
            {
                return UpperEdge(i) / 1000.0;
            }
        }

        return UpperEdge(_counts.Length - 1) / 1000.0;
    }

    private static int Index(long v)
    {
        if (v < Sub)
        {
            return (int)v; // the first 64 µs are exact
        }

        var power = 63 - (int)long.LeadingZeroCount(v); // >= SubBits
        var sub = (int)(v >> (power - SubBits)) - Sub; // 0..63 within this power
        var index = ((power - SubBits + 1) * Sub) + sub;
        return Math.Min(index, (Powers * Sub) - 1);
    }

    private static long UpperEdge(int index)
    {
        if (index < Sub)
        {
            return index;
        }

        var power = (index / Sub) + SubBits - 1;
        var sub = index % Sub;
        return ((long)(Sub + sub + 1) << (power - SubBits)) - 1;
    }
}
