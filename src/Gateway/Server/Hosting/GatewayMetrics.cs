using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace OrleansRooms.Hosting;

/// <summary>
/// The Socket.IO layer's instruments, on the <c>OrleansRooms.Gateway</c> meter (docs/observability.md lists them all).
/// Nothing is tagged with a name a client chooses (event names, dynamic namespaces): a client could make the series
/// without bound. Those are on the spans (<see cref="GatewayActivities"/>).
/// </summary>
internal sealed class GatewayMetrics
{
    /// <summary>The meter name, for <c>AddMeter</c> in OpenTelemetry or <c>dotnet-counters</c>.</summary>
    public const string MeterName = "OrleansRooms.Gateway";

    /// <summary>The boundaries ASP.NET Core gives its request durations, in seconds.</summary>
    internal static readonly InstrumentAdvice<double> DurationAdvice = new()
    {
        HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
    };

    private static readonly InstrumentAdvice<int> CountAdvice = new()
    {
        HistogramBucketBoundaries = [0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000],
    };

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
    private readonly Histogram<double> _eventDuration;
    private readonly Histogram<double> _roomChangeDuration;
    private readonly Histogram<int> _recipients;
    private readonly Histogram<int> _gateways;

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        var meter = Meter = meterFactory.Create(MeterName);
        _sockets = meter.CreateUpDownCounter<long>("orleansrooms.socketio.sockets", "{socket}", "Sockets connected to a namespace.");
        _connectRejected = meter.CreateCounter<long>("orleansrooms.socketio.connect_errors", "{socket}", "Namespace connections refused.");
        _eventsReceived = meter.CreateCounter<long>("orleansrooms.socketio.events.received", "{event}", "Events received from clients.");
        _broadcasts = meter.CreateCounter<long>("orleansrooms.socketio.broadcasts", "{broadcast}", "Broadcasts delivered on this gateway (emitted here or received from another).");
        _deliveries = meter.CreateCounter<long>("orleansrooms.socketio.broadcast.deliveries", "{packet}", "Packets written to sockets by broadcasts.");
        _clusterFailures = meter.CreateCounter<long>("orleansrooms.socketio.cluster.failures", "{change}", "Joins, leaves and connections the cluster could not record within its retry bound (the caller got the error).");
        _restores = meter.CreateCounter<long>("orleansrooms.cluster.sessions.restored", "{session}", "Sessions of this gateway's sockets restored from its table after the silo holding them died.");
        _recovered = meter.CreateCounter<long>("orleansrooms.recovery.sessions.recovered", "{session}", "Sockets recovered by their reconnecting client (connection state recovery).");
        _recoveryRefused = meter.CreateCounter<long>("orleansrooms.recovery.sessions.refused", "{session}", "Recoveries that could not be granted: the client got a new session.");
        _replayed = meter.CreateCounter<long>("orleansrooms.recovery.packets.replayed", "{packet}", "Missed packets written to recovered sockets.");
        _releases = meter.CreateCounter<long>("orleansrooms.cluster.releases", "{release}", "Room events of a dead gateway's sockets raised here for the cluster (counted per batch received).");
        _eventDuration = meter.CreateHistogram<double>(
            "orleansrooms.socketio.event.duration", "s",
            "Time an event from a client took to handle: its middleware and handlers, until the last asynchronous handler completed.",
            tags: null, DurationAdvice);
        _roomChangeDuration = meter.CreateHistogram<double>(
            "orleansrooms.socketio.room_change.duration", "s",
            "Time a socket's join or leave took, from the call until the cluster recorded it (waiting for the socket's earlier changes included).",
            tags: null, DurationAdvice);
        _recipients = meter.CreateHistogram<int>(
            "orleansrooms.socketio.broadcast.recipients", "{socket}",
            "Sockets of this gateway one broadcast was written to (on the gateway that emitted it and on each that received it).",
            tags: null, CountAdvice);
        _gateways = meter.CreateHistogram<int>(
            "orleansrooms.socketio.broadcast.gateways", "{gateway}",
            "Other gateways that took one broadcast emitted here (broadcasts without acknowledgements and without connection state recovery; not Local ones).",
            tags: null, CountAdvice);
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
        _recipients.Record(deliveries);
    }

    public void BroadcastSent(int gateways) => _gateways.Record(gateways);

    /// <summary>Whether event durations are measured (something listens): otherwise no clock is read.</summary>
    public bool MeasuresEvents => _eventDuration.Enabled;

    public bool MeasuresRoomChanges => _roomChangeDuration.Enabled;

    public void EventHandled(TimeSpan duration) => _eventDuration.Record(duration.TotalSeconds);

    /// <param name="join">A join; otherwise a leave.</param>
    /// <param name="duration">From the call until the change was recorded or failed.</param>
    /// <param name="error">The failure's type, or null.</param>
    public void RoomChanged(bool join, TimeSpan duration, string? error)
    {
        var tags = new TagList { { "socketio.room_change", join ? "join" : "leave" } };
        if (error is not null)
        {
            tags.Add("error.type", error);
        }

        _roomChangeDuration.Record(duration.TotalSeconds, tags);
    }
}
