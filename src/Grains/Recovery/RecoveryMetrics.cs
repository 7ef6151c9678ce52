using System.Diagnostics.Metrics;

namespace OrleansRooms.Grains.Recovery;

/// <summary>What the sessions of this silo do with recovery, on the <c>OrleansRooms.Recovery</c> meter.</summary>
internal sealed class RecoveryMetrics
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "OrleansRooms.Recovery";

    private readonly Counter<long> _suspended;
    private readonly Counter<long> _expired;

    public RecoveryMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _suspended = meter.CreateCounter<long>("orleansrooms.recovery.sessions.suspended", "{session}", "Sessions whose connection dropped, kept for their client to recover.");
        _expired = meter.CreateCounter<long>("orleansrooms.recovery.sessions.expired", "{session}", "Suspended sessions whose client did not come back within the window.");
    }

    public void Suspended() => _suspended.Add(1);

    public void Expired() => _expired.Add(1);
}
