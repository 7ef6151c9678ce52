namespace OrleansRooms.Engine;

/// <summary>What the probing WebSocket of an upgrade does after a packet.</summary>
internal enum ProbeResult
{
    Continue,
    Upgraded,
    Abandon,
}

/// <summary>
/// The upgrade of a long-polling session to a WebSocket (Engine.IO v4 "Upgrade"): the probing WebSocket, whether its
/// <c>2probe</c> was answered (polling is paused then), and the <c>upgradeTimeout</c> after which it is abandoned.
/// Its state is guarded by the session's lock (<see cref="EngineSession.Gate"/>), which the queue and polling paths
/// hold when they read it. Created on a session's first upgrade attempt.
/// </summary>
internal sealed class EngineUpgrade(EngineSession session, TimerWheel wheel, TimeSpan timeout) : TimerWheelEntry
{
    private static readonly EnginePacket ProbePong = EnginePacket.FromText("3probe"u8);

    private long _deadline;

    /// <summary>The WebSocket being probed, if any. Under the session's lock.</summary>
    public WebSocketTransport? Probe { get; private set; }

    /// <summary>The probe's <c>2probe</c> was answered: packets wait for the WebSocket and polling GETs get a noop. Under the session's lock.</summary>
    public bool IsProbed { get; private set; }

    /// <summary>Reserves the session for <paramref name="probe"/>; false when another probe is under way. Under the session's lock.</summary>
    public bool TryBeginLocked(WebSocketTransport probe, long now)
    {
        if (Probe is not null)
        {
            return false;
        }

        Probe = probe;
        IsProbed = false;
        _deadline = wheel.After(now, timeout);
        wheel.Schedule(this, _deadline);
        return true;
    }

    /// <summary>Forgets the probe (the session closes, upgrades, or gives the probe up) and returns it. Under the session's lock.</summary>
    public WebSocketTransport? EndLocked()
    {
        var probe = Probe;
        Probe = null;
        IsProbed = false;
        wheel.Cancel(this);
        return probe;
    }

    /// <summary>The probe ended or failed by itself.</summary>
    public void Abandon(WebSocketTransport probe, string why)
    {
        lock (session.Gate)
        {
            if (Probe != probe)
            {
                return;
            }

            EndLocked();
        }

        EngineLog.UpgradeAbandoned(session.Server.Logger, session.Id, why);
    }

    /// <summary>A packet on the probing WebSocket: <c>2probe</c> is answered, <c>5</c> completes the upgrade, anything else abandons it.</summary>
    public ProbeResult Receive(WebSocketTransport probe, ReadOnlySpan<byte> packet, bool isBinary)
    {
        var size = ProbePong.WebSocketFrame.Length;
        bool full;
        lock (session.Gate)
        {
            if (Probe != probe)
            {
                return ProbeResult.Abandon;
            }

            if (session.IsClosed)
            {
                // Closed by the server after the 3probe: the client's 5 lets the close reach it on this WebSocket.
                if (!IsProbed || isBinary || !packet.SequenceEqual("5"u8))
                {
                    return ProbeResult.Abandon;
                }

                EndLocked();
                session.SwitchToWebSocketLocked(probe);
                return ProbeResult.Upgraded;
            }

            var isPing = !isBinary && packet.SequenceEqual("2probe"u8);
            full = isPing;
            if (isPing && session.FitsLocked(size))
            {
                IsProbed = true;
                session.ReleasePollWithNoopLocked();
                probe.EnqueueFrame(ProbePong.WebSocketFrame);
                return ProbeResult.Continue;
            }

            if (!isPing)
            {
                EndLocked();
                if (isBinary || !packet.SequenceEqual("5"u8))
                {
                    return ProbeResult.Abandon;
                }

                session.SwitchToWebSocketLocked(probe);
            }
        }

        if (full)
        {
            // A client that repeats 2probe without reading the answers.
            session.CloseOnFullBuffer(session.PendingBytes + size);
            return ProbeResult.Abandon;
        }

        session.Server.Metrics.Upgrades.Add(1);
        EngineLog.Upgraded(session.Server.Logger, session.Id);
        session.Server.Activity?.OnUpgraded(session.Id);
        return ProbeResult.Upgraded;
    }

    internal override void OnDue(long tickTime)
    {
        WebSocketTransport? abandoned = null;
        lock (session.Gate)
        {
            if (Probe is not null && tickTime >= _deadline)
            {
                abandoned = EndLocked();
            }
        }

        if (abandoned is not null)
        {
            EngineLog.UpgradeAbandoned(session.Server.Logger, session.Id, "upgrade timeout");
            abandoned.RequestClose(WebSocketFrameHeader.NormalClosure);
        }
    }
}
