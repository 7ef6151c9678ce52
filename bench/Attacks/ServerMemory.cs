using System.Globalization;

namespace OrleansRooms.Attacks;

/// <summary>The server's resident memory, read from /proc/&lt;pid&gt;/status, with the highest value seen every 20 ms.</summary>
internal sealed class ServerMemory : IAsyncDisposable
{
    private readonly int? _pid;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampler;
    private long _peak;

    public ServerMemory(int? pid)
    {
        _pid = pid;
        _sampler = pid is null ? Task.CompletedTask : SampleAsync();
    }

    public string Peak => _pid is null ? "n/a (no --pid)" : Format(Volatile.Read(ref _peak));

    public string Now() => _pid is null ? "n/a (no --pid)" : Format(Rss());

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sampler;
        _stop.Dispose();
    }

    private static string Format(long bytes) => string.Create(CultureInfo.InvariantCulture, $"RSS {bytes / 1048576.0:0.0} MiB");

    private async Task SampleAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        try
        {
            do
            {
                var rss = Rss();
                if (rss > _peak)
                {
                    Volatile.Write(ref _peak, rss);
                }
            }
            while (await timer.WaitForNextTickAsync(_stop.Token));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private long Rss()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{_pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
            // The server is gone.
        }

        return 0;
    }
}
