using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansRooms.Engine;

/// <summary>
/// `--timers`: the CPU the Engine.IO heartbeat scheduling costs with N sessions, on the real clock, with nothing else
/// running. Each session pings every interval and its "client" answers at once (the pong deadline is scheduled, then
/// the next ping), as a healthy gateway does. Two schedulers:
///   scan  the shared scan the gateway used before the timing wheel: a 100 ms timer visiting every session
///         (100 ms is what it chose with the default options).
///   wheel the TimerWheel the sessions use now, at several resolutions (on the system clock it sleeps on a thread of
///         its own); "wheel on timer" drives the same wheel with a runtime timer, as it does on other TimeProviders.
/// Prints process CPU time per second of wall time, less the idle process's.
/// </summary>
internal static class TimerBench
{
    public static async Task<int> RunAsync(int[] counts, TimeSpan window)
    {
        var idle = await MeasureAsync(window, () => () => { });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"idle process: {idle:F2} ms CPU per s (subtracted below)"));
        foreach (var interval in new[] { TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(2) })
        {
            foreach (var count in counts)
            {
                var scan = await MeasureAsync(window, () => StartScan(count, interval)) - idle;
                Report("scan 100 ms", count, interval, scan);
                foreach (var resolution in new[] { 1, 2, 4 })
                {
                    var wheel = await MeasureAsync(window, () => StartWheel(TimeProvider.System, count, interval, TimeSpan.FromMilliseconds(resolution))) - idle;
                    Report($"wheel {resolution} ms", count, interval, wheel);
                }

                var onTimer = await MeasureAsync(window, () => StartWheel(new TimerClock(), count, interval, TimeSpan.FromMilliseconds(2))) - idle;
                Report("wheel 2 ms on timer", count, interval, onTimer);
            }
        }

        return 0;
    }

    private static void Report(string scheduler, int count, TimeSpan interval, double cpuMsPerSecond) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{scheduler,-19} sessions={count,6} pingInterval={interval.TotalSeconds,2:F0}s pings/s={count / interval.TotalSeconds,6:F0} cpu={cpuMsPerSecond,6:F2} ms/s ({cpuMsPerSecond / 10:F3} % of a core)"));

    /// <summary>Starts a scheduler, waits a moment for it to settle, measures CPU over the window, stops it.</summary>
    private static async Task<double> MeasureAsync(TimeSpan window, Func<Action> start)
    {
        GC.Collect();
        var stop = start();
        await Task.Delay(TimeSpan.FromSeconds(1));
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await Task.Delay(window);
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        var elapsed = clock.Elapsed;
        stop();
        return cpu.TotalMilliseconds / elapsed.TotalSeconds;
    }

    private static Action StartWheel(TimeProvider time, int count, TimeSpan interval, TimeSpan resolution)
    {
        var wheel = new TimerWheel(time, resolution, interval + interval, NullLogger.Instance);
        var now = time.GetTimestamp();
        var entries = new WheelSession[count];
        for (var i = 0; i < count; i++)
        {
            // Sessions opened at different times: the first pings spread over one interval.
            entries[i] = new WheelSession(wheel, interval);
            entries[i].Start(now + (long)(Stopwatch.Frequency * interval.TotalSeconds * i / count));
        }

        return () =>
        {
            foreach (var entry in entries)
            {
                wheel.Cancel(entry);
            }

            wheel.Dispose();
        };
    }

    private static Action StartScan(int count, TimeSpan interval)
    {
        var sessions = new ScanSession[count];
        var now = Stopwatch.GetTimestamp();
        var ticks = (long)(interval.TotalSeconds * Stopwatch.Frequency);
        for (var i = 0; i < count; i++)
        {
            sessions[i] = new ScanSession(ticks, now + ticks + (ticks * i / count));
        }

        var ticking = 0;
        var timer = TimeProvider.System.CreateTimer(_ =>
        {
            if (Interlocked.Exchange(ref ticking, 1) == 1)
            {
                return;
            }

            var tickNow = Stopwatch.GetTimestamp();
            foreach (var session in sessions)
            {
                session.Tick(tickNow);
            }

            Volatile.Write(ref ticking, 0);
        }, null, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));
        return () =>
        {
            timer.Dispose();
            foreach (var session in sessions)
            {
                session.Close();
            }
        };
    }

    /// <summary>The system clock under another name, so the wheel drives itself with a runtime timer.</summary>
    private sealed class TimerClock : TimeProvider;

    /// <summary>A session's heartbeat on the wheel, whose client answers every ping at once.</summary>
    private sealed class WheelSession(TimerWheel wheel, TimeSpan interval) : TimerWheelEntry
    {
        private readonly Lock _gate = new();
        private long _pingAt;

        public long Pings;

        public void Start(long pingAt)
        {
            lock (_gate)
            {
                _pingAt = pingAt;
                wheel.Schedule(this, pingAt);
            }
        }

        internal override void OnDue(long tickTime)
        {
            lock (_gate)
            {
                if (tickTime < _pingAt)
                {
                    return;
                }

                // The ping leaves and its pong deadline is set; the pong comes back and the next ping is set.
                Pings++;
                wheel.Schedule(this, wheel.After(_pingAt, TimeSpan.FromSeconds(20)));
                _pingAt = wheel.After(_pingAt, interval);
                wheel.Schedule(this, _pingAt);
            }
        }
    }

    /// <summary>The fields and the per-scan test the shared scan used (EngineSession.Tick before the wheel).</summary>
    private sealed class ScanSession(long interval, long firstPing)
    {
        private readonly Lock _gate = new();
        private long _nextPingAt = firstPing;
        private long _pongDeadline;
        private object? _probe;
        private volatile bool _closed;

        public long Pings;

        public void Close()
        {
            _closed = true;
            Volatile.Write(ref _probe, null);
        }

        public void Tick(long now)
        {
            if (Volatile.Read(ref _pongDeadline) == 0 && now < Volatile.Read(ref _nextPingAt) && Volatile.Read(ref _probe) is null && !_closed)
            {
                return;
            }

            lock (_gate)
            {
                if (now >= _nextPingAt)
                {
                    Pings++;
                    _pongDeadline = now + (interval / 2);
                    _pongDeadline = 0;
                    _nextPingAt = now + interval;
                }
            }
        }
    }
}
