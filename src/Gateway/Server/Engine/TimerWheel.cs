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
/// the tick that follows it, and the wheel wakes only for ticks whose slot holds something, running just those
/// entries. Scheduling and cancelling are O(1) and a wake-up costs what is due in it. Deadlines are rounded up to the
/// next tick, so an entry runs at most one <see cref="Resolution"/> late; owners compute the next deadline from the
/// previous one, so the lateness never adds up.
/// On the system clock the wheel sleeps on a thread of its own: a runtime timer costs about five times more CPU per
/// wake-up and fires at most every 4 ms on Linux (bench/Gateway.Bench --timers). On any other TimeProvider (a fake
/// clock in tests) that provider's timer ticks every <see cref="Resolution"/>, never re-armed from its own callback
/// (which FakeTimeProvider does not honour).
/// </summary>
internal sealed class TimerWheel : IDisposable
{
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly TimerWheelEntry?[] _slots;
    private readonly ulong[] _occupied;
    private readonly long _mask;
    private readonly long _origin;
    private readonly long _tickLength;
    private readonly List<TimerWheelEntry> _due = [];

    // One of the two: the provider's timer, or a thread sleeping on _wake.
    private readonly ITimer? _timer;
    private readonly ManualResetEventSlim? _wake;
    private readonly Thread? _thread;

    // Under _gate: the next tick to run (every tick before it has run), the tick the driver is armed for, entries.
    private long _nextTick;
    private long _armedTick = long.MaxValue;
    private int _count;
    private bool _disposed;
    private int _ticking;

    /// <param name="time">The clock.</param>
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
        _occupied = new ulong[size / 64];
        _mask = size - 1;
        _origin = time.GetTimestamp();
        _nextTick = 1;
        if (time == TimeProvider.System)
        {
            _wake = new ManualResetEventSlim(false, spinCount: 0);
            _thread = new Thread(static state => ((TimerWheel)state!).Run()) { IsBackground = true, Name = "Engine.IO timers" };
            _thread.UnsafeStart(this);
        }
        else
        {
            _timer = time.CreateTimer(static state => ((TimerWheel)state!).Tick(), this, resolution, resolution);
        }
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
            if (_count == 0 && Volatile.Read(ref _ticking) == 0)
            {
                // The wheel was empty and asleep: ticks that passed meanwhile had nothing to run. (Not while a tick
                // catches up: an entry it runs may schedule the next deadline before "now", and that tick must run.)
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
            var slot = due & _mask;
            ref var head = ref _slots[slot];
            entry.Previous = null;
            entry.Next = head;
            if (head is not null)
            {
                head.Previous = entry;
            }

            head = entry;
            _occupied[slot >> 6] |= 1UL << (int)(slot & 63);
            if (due < _armedTick)
            {
                ArmLocked(due);
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

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
        }

        _timer?.Dispose();
        _wake?.Set();
    }

    private long TickOf(long timestamp) => Math.Max(0, (timestamp - _origin) / _tickLength);

    private long TimeOf(long tick) => _origin + (tick * _tickLength);

    /// <summary>Wakes the wheel's thread at <paramref name="tick"/> (earlier than it was armed for); the provider's timer ticks anyway. Under _gate.</summary>
    private void ArmLocked(long tick)
    {
        _armedTick = tick;
        if (!_disposed)
        {
            _wake?.Set();
        }
    }

    /// <summary>The first tick from <paramref name="from"/> whose slot holds an entry (of this turn or a later one), or <see cref="long.MaxValue"/>.</summary>
    private long NextOccupiedLocked(long from)
    {
        if (_count == 0)
        {
            return long.MaxValue;
        }

        var size = _slots.Length;
        var slot = (int)(from & _mask);
        var scanned = 0;
        while (scanned < size)
        {
            var word = _occupied[slot >> 6] >> (slot & 63);
            if (word != 0)
            {
                var skip = System.Numerics.BitOperations.TrailingZeroCount(word);
                return skip + scanned < size ? from + scanned + skip : long.MaxValue;
            }

            var step = 64 - (slot & 63);
            scanned += step;
            slot = (slot + step) & (int)_mask;
        }

        return long.MaxValue;
    }

    private void Unlink(TimerWheelEntry entry)
    {
        if (entry.Previous is not null)
        {
            entry.Previous.Next = entry.Next;
        }
        else
        {
            var slot = entry.DueTick & _mask;
            _slots[slot] = entry.Next;
            if (entry.Next is null)
            {
                _occupied[slot >> 6] &= ~(1UL << (int)(slot & 63));
            }
        }

        if (entry.Next is not null)
        {
            entry.Next.Previous = entry.Previous;
        }

        entry.Next = null;
        entry.Previous = null;
    }

    /// <summary>The wheel's own thread on the system clock: sleeps until the armed tick or an earlier arm, then ticks.</summary>
    private void Run()
    {
        var wake = _wake!;
        while (true)
        {
            wake.Reset();
            long wait;
            lock (_gate)
            {
                if (_disposed)
                {
                    wake.Dispose();
                    return;
                }

                wait = _armedTick == long.MaxValue ? long.MaxValue : TimeOf(_armedTick) - _time.GetTimestamp();
            }

            if (wait > 0)
            {
                var milliseconds = wait == long.MaxValue
                    ? Timeout.Infinite
                    : (int)Math.Min(int.MaxValue, ((wait * 1000) + _time.TimestampFrequency - 1) / _time.TimestampFrequency);
                if (wake.Wait(milliseconds))
                {
                    // Armed for an earlier tick, or disposed: look again.
                    continue;
                }
            }

            Tick();
        }
    }

    private void Tick()
    {
        // Runtime timer callbacks may overlap; the running one catches up with every tick that passed.
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
                    tick = NextOccupiedLocked(_nextTick);
                    if (tick > last)
                    {
                        _nextTick = last + 1;
                        _armedTick = long.MaxValue;
                        if (tick != long.MaxValue && !_disposed)
                        {
                            ArmLocked(tick);
                        }

                        return;
                    }

                    _nextTick = tick + 1;
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
                    RunDue(TimeOf(tick));
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
