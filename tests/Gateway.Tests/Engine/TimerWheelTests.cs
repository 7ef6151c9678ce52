using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using OrleansRooms.Engine;

namespace OrleansRooms.Tests.Engine;

/// <summary>The timing wheel under every session's deadlines, on a fake clock.</summary>
public sealed class TimerWheelTests
{
    private static readonly TimeSpan Resolution = TimeSpan.FromMilliseconds(4);

    [Fact]
    public void An_entry_runs_at_its_deadline_rounded_up_to_the_next_tick()
    {
        var time = new FakeTimeProvider();
        using var wheel = new TimerWheel(time, Resolution, TimeSpan.FromSeconds(1), NullLogger.Instance);
        var entry = new Recorder(time);

        wheel.Schedule(entry, wheel.After(time.GetTimestamp(), TimeSpan.FromMilliseconds(101)));
        time.Advance(TimeSpan.FromMilliseconds(103));
        Assert.Empty(entry.Runs);
        time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal([TimeSpan.FromMilliseconds(104)], entry.Runs);
        Assert.Equal(0, wheel.Count);
    }

    [Fact]
    public void One_long_advance_runs_every_deadline_it_passes_in_order_with_its_own_tick_time()
    {
        var time = new FakeTimeProvider();
        using var wheel = new TimerWheel(time, Resolution, TimeSpan.FromSeconds(1), NullLogger.Instance);
        var start = time.GetTimestamp();
        var entry = new Recorder(time) { Again = TimeSpan.FromMilliseconds(100), Times = 5 };
        entry.Wheel = wheel;

        wheel.Schedule(entry, wheel.After(start, TimeSpan.FromMilliseconds(100)));
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal([100, 200, 300, 400, 500], entry.TickTimes.Select(t => (t - start) * 1000 / time.TimestampFrequency));
    }

    [Fact]
    public void A_cancelled_or_moved_entry_does_not_run_at_its_old_deadline()
    {
        var time = new FakeTimeProvider();
        using var wheel = new TimerWheel(time, Resolution, TimeSpan.FromSeconds(1), NullLogger.Instance);
        var start = time.GetTimestamp();
        var cancelled = new Recorder(time);
        var moved = new Recorder(time);

        wheel.Schedule(cancelled, wheel.After(start, TimeSpan.FromMilliseconds(40)));
        wheel.Schedule(moved, wheel.After(start, TimeSpan.FromMilliseconds(40)));
        wheel.Cancel(cancelled);
        wheel.Schedule(moved, wheel.After(start, TimeSpan.FromMilliseconds(80)));
        time.Advance(TimeSpan.FromMilliseconds(60));
        Assert.Empty(moved.Runs);
        time.Advance(TimeSpan.FromMilliseconds(20));

        Assert.Empty(cancelled.Runs);
        Assert.Equal([TimeSpan.FromMilliseconds(80)], moved.Runs);
    }

    [Fact]
    public void Deadlines_longer_than_the_wheel_wait_for_their_turn()
    {
        var time = new FakeTimeProvider();
        using var wheel = new TimerWheel(time, Resolution, TimeSpan.FromMilliseconds(100), NullLogger.Instance);
        var entry = new Recorder(time);

        wheel.Schedule(entry, wheel.After(time.GetTimestamp(), TimeSpan.FromSeconds(3)));
        time.Advance(TimeSpan.FromMilliseconds(2996));
        Assert.Empty(entry.Runs);
        time.Advance(TimeSpan.FromMilliseconds(4));

        Assert.Equal([TimeSpan.FromSeconds(3)], entry.Runs);
    }

    private sealed class Recorder(FakeTimeProvider time) : TimerWheelEntry
    {
        private readonly DateTimeOffset _start = time.GetUtcNow();

        public List<TimeSpan> Runs { get; } = [];

        public List<long> TickTimes { get; } = [];

        public TimerWheel? Wheel { get; set; }

        public TimeSpan Again { get; init; }

        public int Times { get; init; } = 1;

        internal override void OnDue(long tickTime)
        {
            Runs.Add(time.GetUtcNow() - _start);
            TickTimes.Add(tickTime);
            if (Runs.Count < Times)
            {
                Wheel!.Schedule(this, Wheel.After(tickTime, Again));
            }
        }
    }
}
