namespace OrleansRooms.Engine;

/// <summary>
/// Wakes the WebSocket writers that a heartbeat ping was queued for, at most <see cref="PerTick"/> in one tick of the
/// timing wheel, or more when that would not wake a backlog within <c>spread</c>. Sessions that connect together are
/// pinged together, exactly <c>pingInterval</c> apart: 10,000 writers woken in one tick put 10,000 writes, sends and
/// then pong reads in the thread pool's and the socket queues ahead of every broadcast that came after them (stalls
/// of 100–400 ms at 40,000 deliveries/s on two cores). Spread over up to <c>spread</c>, the burst costs the same CPU
/// in slices the broadcasts can pass between. A ping that waits here moves no deadline: its pong is still due
/// <c>pingTimeout</c> after the ping was due, and the next ping <c>pingInterval</c> after it; so <c>spread</c> is a
/// small part of <c>pingTimeout</c>. A ping of a tick that holds few leaves in that tick, as before.
/// </summary>
internal sealed class HeartbeatWakeups(TimerWheel wheel, TimeSpan spread) : TimerWheelEntry
{
    /// <summary>Writers woken in one tick before the rest wait for later ticks.</summary>
    internal const int PerTick = 64;

    private readonly Lock _gate = new();
    private readonly Queue<WebSocketTransport> _backlog = new();
    private readonly long _ticksInSpread = Math.Max(1, spread.Ticks / wheel.Resolution.Ticks);

    // The tick whose wake-ups are counted, how many it woke, and the rate that drains the backlog within the spread.
    private long _tickTime = long.MinValue;
    private int _woken;
    private int _rate = PerTick;

    /// <summary>A ping was queued for <paramref name="writer"/> in the tick of <paramref name="tickTime"/>: wakes it now or in its turn.</summary>
    public void Add(WebSocketTransport writer, long tickTime)
    {
        lock (_gate)
        {
            if (tickTime != _tickTime)
            {
                _tickTime = tickTime;
                _woken = 0;
            }

            if (_backlog.Count != 0 || _woken >= PerTick)
            {
                _backlog.Enqueue(writer);
                _rate = (int)Math.Max(_rate, (_backlog.Count + _ticksInSpread - 1) / _ticksInSpread);
                if (_backlog.Count == 1)
                {
                    wheel.Schedule(this, wheel.After(tickTime, wheel.Resolution));
                }

                return;
            }

            _woken++;
        }

        writer.Signal();
    }

    internal override void OnDue(long tickTime)
    {
        WebSocketTransport[] batch;
        lock (_gate)
        {
            var count = Math.Min(_rate, _backlog.Count);
            batch = new WebSocketTransport[count];
            for (var i = 0; i < count; i++)
            {
                batch[i] = _backlog.Dequeue();
            }

            _tickTime = tickTime;
            _woken = count;
            if (_backlog.Count != 0)
            {
                wheel.Schedule(this, wheel.After(tickTime, wheel.Resolution));
            }
            else
            {
                _rate = PerTick;
            }
        }

        foreach (var writer in batch)
        {
            writer.Signal();
        }
    }
}
