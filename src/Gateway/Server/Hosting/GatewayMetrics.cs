using System.Diagnostics.Metrics;

namespace OrleansRooms.Hosting;

/// <summary>The Socket.IO layer's counters, on the <c>OrleansRooms.Gateway</c> meter.</summary>
internal sealed class GatewayMetrics
{
    /// <summary>The meter name, for <c>AddMeter</c> in OpenTelemetry or <c>dotnet-counters</c>.</summary>
    public const string MeterName = "OrleansRooms.Gateway";

    private readonly UpDownCounter<long> _sockets;
    private readonly Counter<long> _connectRejected;
    private readonly Counter<long> _eventsReceived;
    private readonly Counter<long> _broadcasts;
    private readonly Counter<long> _deliveries;
    private readonly Counter<long> _clusterFailures;
    private readonly Counter<long> _restores;
    private readonly Counter<long> _releases;
    private readonly Counter<long> _recovered;
    private readonly Counter<long> _recoveryRefused;
    private readonly Counter<long> _replayed;

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        var meter = Meter = meterFactory.Create(MeterName);
        _sockets = meter.CreateUpDownCounter<long>("orleansrooms.socketio.sockets", "{socket}", "Sockets connected to a namespace.");
        _connectRejected = meter.CreateCounter<long>("orleansrooms.socketio.connect_errors", "{socket}", "Namespace connections refused.");
        _eventsReceived = meter.CreateCounter<long>("orleansrooms.socketio.events.received", "{event}", "Events received from clients.");
        _broadcasts = meter.CreateCounter<long>("orleansrooms.socketio.broadcasts", "{broadcast}", "Broadcasts sent.");
        _deliveries = meter.CreateCounter<long>("orleansrooms.socketio.broadcast.deliveries", "{packet}", "Packets written to sockets by broadcasts.");
        _clusterFailures = meter.CreateCounter<long>("orleansrooms.socketio.cluster.failures", "{change}", "Joins, leaves and connections the cluster could not record within its retry bound (the caller got the error).");
        _restores = meter.CreateCounter<long>("orleansrooms.cluster.sessions.restored", "{session}", "Sessions of this gateway's sockets restored from its table after the silo holding them died.");
        _recovered = meter.CreateCounter<long>("orleansrooms.recovery.sessions.recovered", "{session}", "Sockets recovered by their reconnecting client (connection state recovery).");
        _recoveryRefused = meter.CreateCounter<long>("orleansrooms.recovery.sessions.refused", "{session}", "Recoveries that could not be granted: the client got a new session.");
        _replayed = meter.CreateCounter<long>("orleansrooms.recovery.packets.replayed", "{packet}", "Missed packets written to recovered sockets.");
        _releases = meter.CreateCounter<long>("orleansrooms.cluster.releases", "{release}", "Room events of a dead gateway's sockets raised here for the cluster (counted per batch received).");
    }

    /// <summary>This gateway's meter (one per host, so listeners can tell gateways of one process apart).</summary>
    public Meter Meter { get; }

    public void SocketConnected() => _sockets.Add(1);

    public void SocketDisconnected() => _sockets.Add(-1);

    public void ConnectRejected() => _connectRejected.Add(1);

    public void EventReceived() => _eventsReceived.Add(1);

    public void ClusterFailure() => _clusterFailures.Add(1);

    public void SessionsRestored(int sessions) => _restores.Add(sessions);

    public void Released() => _releases.Add(1);

    public void Recovered(int replayed)
    {
        _recovered.Add(1);
        _replayed.Add(replayed);
    }

    public void RecoveryRefused() => _recoveryRefused.Add(1);

    public void Broadcast(int deliveries)
    {
        _broadcasts.Add(1);
        _deliveries.Add(deliveries);
    }
}
