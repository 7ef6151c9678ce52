using Microsoft.Extensions.Logging;

namespace OrleansRooms.Engine;

/// <summary>A deadline kept by a <see cref="TimerWheel"/>: at most one pending time per entry, moved by rescheduling.</summary>
internal abstract class TimerWheelEntry
{
    // Owned by the wheel, read and written under its lock only.
    internal TimerWheelEntry? Next;
    internal TimerWheelEntry? Previous;
    internal long DueTick;
    internal bool IsScheduled;

    /// <summary>
    /// Runs on the wheel's timer once the entry is due, outside the wheel's lock (it may reschedule itself).
    /// <paramref name="tickTime"/> is the timestamp of the tick that found it due, never earlier than the deadline;
    /// a call that lost a race with a reschedule sees a deadline later than <paramref name="tickTime"/> and does nothing.
    /// </summary>
    internal abstract void OnDue(long tickTime);
}

/// <summary>
/// A hashed timing wheel: every deadline of every Engine.IO session (heartbeat, upgrade, drain) lands in the slot of
/// the tick that follows it, and one timer ticking every <see cref="Resolution"/> runs only the entries of the
/// slots that came due. Scheduling and cancelling are O(1), a tick costs what is due in it, and the timer stops while
/// the wheel is empty. Deadlines are rounded up to the next tick, so an entry runs at most one resolution late, and
/// owners compute the next deadline from the previous one so the lateness never adds up.
/// </summary>
internal sealed class TimerWheel : IDisposable
{
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly TimerWheelEntry?[] _slots;
    private readonly long _mask;
    private readonly long _origin;
    private readonly long _tickLength;
    private readonly ITimer _timer;
    private readonly List<TimerWheelEntry> _due = [];

    // The next tick to run; every tick before it has run. Under _gate.
    private long _nextTick;
    private int _count;
    private bool _running;
    private int _ticking;

    /// <param name="time">The clock and the timer.</param>
    /// <param name="resolution">The tick length: how late an entry may run.</param>
    /// <param name="span">The longest delay usually scheduled; longer ones work too, each visited once per turn of the wheel.</param>
    /// <param name="logger">Where an entry that throws is reported.</param>
    public TimerWheel(TimeProvider time, TimeSpan resolution, TimeSpan span, ILogger logger)
    {
        _time = time;
        _logger = logger;
        Resolution = resolution;
        _tickLength = Math.Max(1, (long)(resolution.TotalSeconds * time.TimestampFrequency));
        var ticks = (long)Math.Ceiling(span.TotalSeconds * time.TimestampFrequency / _tickLength) + 1;
        var size = (int)Math.Clamp(System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)ticks), 64UL, 1UL << 16);
        _slots = new TimerWheelEntry?[size];
        _mask = size - 1;
        _origin = time.GetTimestamp();
        _nextTick = 1;
        _timer = time.CreateTimer(static state => ((TimerWheel)state!).Tick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The tick length.</summary>
    public TimeSpan Resolution { get; }

    /// <summary>Entries scheduled now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    /// <summary>The timestamp a delay from <paramref name="timestamp"/> ends at.</summary>
    public long After(long timestamp, TimeSpan delay) => timestamp + (long)(delay.TotalSeconds * _time.TimestampFrequency);

    /// <summary>Schedules <paramref name="entry"/> at <paramref name="deadline"/> (a TimeProvider timestamp), moving it if already scheduled.</summary>
    public void Schedule(TimerWheelEntry entry, long deadline)
    {
        lock (_gate)
        {
            if (!_running)
            {
                // The wheel was empty and its timer stopped: ticks that passed meanwhile had nothing to run.
                _nextTick = Math.Max(_nextTick, TickOf(_time.GetTimestamp()) + 1);
            }

            var offset = deadline - _origin;
            var due = offset <= 0 ? 0 : ((offset - 1) / _tickLength) + 1;
            if (due < _nextTick)
            {
                due = _nextTick;
            }

            if (entry.IsScheduled)
            {
                Unlink(entry);
            }
            else
            {
                entry.IsScheduled = true;
                _count++;
            }

            entry.DueTick = due;
            ref var head = ref _slots[due & _mask];
            entry.Previous = null;
            entry.Next = head;
            if (head is not null)
            {
                head.Previous = entry;
            }

            head = entry;
            if (!_running)
            {
                _running = true;
                var wait = _origin + (_nextTick * _tickLength) - _time.GetTimestamp();
                _timer.Change(TimeSpan.FromSeconds(Math.Max(wait, 1) / (double)_time.TimestampFrequency), Resolution);
            }
        }
    }

    /// <summary>Removes <paramref name="entry"/> if it is scheduled; a run already under way may still happen.</summary>
    public void Cancel(TimerWheelEntry entry)
    {
        lock (_gate)
        {
            if (!entry.IsScheduled)
            {
                return;
            }

            Unlink(entry);
            entry.IsScheduled = false;
            _count--;
        }
    }

    public void Dispose() => _timer.Dispose();

    private long TickOf(long timestamp) => Math.Max(0, (timestamp - _origin) / _tickLength);

    private void Unlink(TimerWheelEntry entry)
    {
        if (entry.Previous is not null)
        {
            entry.Previous.Next = entry.Next;
        }
        else
        {
            _slots[entry.DueTick & _mask] = entry.Next;
        }

        if (entry.Next is not null)
        {
            entry.Next.Previous = entry.Previous;
        }

        entry.Next = null;
        entry.Previous = null;
    }

    private void Tick()
    {
        // Timer callbacks may overlap when one runs long; the running one catches up with every tick that passed.
        if (Interlocked.Exchange(ref _ticking, 1) == 1)
        {
            return;
        }

        try
        {
            var last = TickOf(_time.GetTimestamp());
            while (true)
            {
                long tick;
                lock (_gate)
                {
                    if (_nextTick > last)
                    {
                        if (_count == 0 && _running)
                        {
                            _running = false;
                            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                        }

                        return;
                    }

                    tick = _nextTick++;
                    var entry = _slots[tick & _mask];
                    while (entry is not null)
                    {
                        var next = entry.Next;
                        if (entry.DueTick <= tick)
                        {
                            Unlink(entry);
                            entry.IsScheduled = false;
                            _count--;
                            _due.Add(entry);
                        }

                        entry = next;
                    }
                }

                if (_due.Count != 0)
                {
                    RunDue(_origin + (tick * _tickLength));
                }
            }
        }
        finally
        {
            Volatile.Write(ref _ticking, 0);
        }
    }

    private void RunDue(long tickTime)
    {
        foreach (var entry in _due)
        {
            try
            {
                entry.OnDue(tickTime);
            }
            catch (Exception exception)
            {
                EngineLog.TimerError(_logger, exception);
            }
        }

        _due.Clear();
    }
}
