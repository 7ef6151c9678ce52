namespace OrleansRooms.Engine;

/// <summary>
/// The heartbeat of one session, as Engine.IO v4 runs it from the server: a ping <c>pingInterval</c> after the
/// previous one, and the session closed with <c>ping timeout</c> when no pong comes back within <c>pingTimeout</c>.
/// Each deadline is computed from the one before (not from when the wheel ran it), so a late tick never delays the
/// next ping: the n-th ping is due at open + n × <c>pingInterval</c> while the client answers in time.
/// In Engine.IO v3 (<paramref name="clientPings"/>) the client pings and the server only answers: the session is
/// closed with <c>ping timeout</c> when no ping came for <c>pingInterval</c> + <c>pingTimeout</c>.
/// </summary>
internal sealed class EngineHeartbeat(EngineSession session, TimerWheel wheel, TimeSpan interval, TimeSpan timeout, bool clientPings) : TimerWheelEntry
{
    private readonly Lock _gate = new();

    // When the current ping is (or was) due, and whether it is out waiting for its pong.
    private long _pingAt;
    private bool _awaitingPong;
    private bool _started;
    private bool _stopped;

    /// <summary>Schedules the first ping, <c>pingInterval</c> after <paramref name="openedAt"/>.</summary>
    public void Start(long openedAt)
    {
        lock (_gate)
        {
            _started = true;
            if (clientPings)
            {
                // The open counts as the first ping: the client sends its own pingInterval later.
                _pingAt = openedAt;
                wheel.Schedule(this, wheel.After(openedAt, interval + timeout));
                return;
            }

            _pingAt = wheel.After(openedAt, interval);
            wheel.Schedule(this, _pingAt);
        }
    }

    /// <summary>A ping from an Engine.IO v3 client: the session lives <c>pingInterval</c> + <c>pingTimeout</c> more.</summary>
    public void OnClientPing(long now)
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            _pingAt = now;
            wheel.Schedule(this, wheel.After(now, interval + timeout));
        }
    }

    /// <summary>
    /// A pong arrived. It counts only when a ping is waiting for it (an unsolicited pong changes nothing); the next
    /// ping is then due <c>pingInterval</c> after the one answered, or at once when the answer came later than that.
    /// Returns whether it counted.
    /// </summary>
    public bool OnPong(long now)
    {
        lock (_gate)
        {
            if (!_awaitingPong || _stopped)
            {
                return false;
            }

            _awaitingPong = false;
            _pingAt = Math.Max(wheel.After(_pingAt, interval), now);
            wheel.Schedule(this, _pingAt);
            return true;
        }
    }

    /// <summary>
    /// Whether the session outlived its deadline at <paramref name="now"/>: <c>pingTimeout</c> after the current ping was
    /// due (sent or not: a ping the wheel has yet to send cannot be answered in time either), or in Engine.IO v3
    /// <c>pingInterval</c> + <c>pingTimeout</c> after the client's last ping. When it has, the heartbeat stops and the
    /// caller closes the session with <c>ping timeout</c>: a request never finds a session the wheel would already have
    /// closed, had it ticked at that very moment.
    /// </summary>
    public bool TryExpire(long now)
    {
        lock (_gate)
        {
            if (!_started || _stopped || now < DeadlineLocked)
            {
                return false;
            }

            _stopped = true;
            wheel.Cancel(this);
            return true;
        }
    }

    private long DeadlineLocked => clientPings ? wheel.After(_pingAt, interval + timeout) : wheel.After(_pingAt, timeout);

    /// <summary>The session closed: no more pings.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            _stopped = true;
            wheel.Cancel(this);
        }
    }

    internal override void OnDue(long tickTime)
    {
        bool ping;
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            if (clientPings)
            {
                if (tickTime < wheel.After(_pingAt, interval + timeout))
                {
                    return;
                }

                _stopped = true;
                ping = false;
            }
            else if (_awaitingPong)
            {
                if (tickTime < wheel.After(_pingAt, timeout))
                {
                    return;
                }

                _stopped = true;
                ping = false;
            }
            else
            {
                if (tickTime < _pingAt)
                {
                    return;
                }

                // The pong is due pingTimeout after the ping's own deadline (not after the tick that sent it), so a
                // silent client is closed exactly pingInterval + pingTimeout after the previous ping was due.
                _awaitingPong = true;
                wheel.Schedule(this, wheel.After(_pingAt, timeout));
                ping = true;
            }
        }

        if (ping)
        {
            session.Send([EnginePacket.Ping]);
        }
        else
        {
            session.CloseCore("ping timeout", CloseKind.Error);
        }
    }
}
