using System.Diagnostics.Metrics;

namespace OrleansRooms.Silo.Compatibility;

/// <summary>The counters of the official emitter's channels, on the <c>OrleansRooms.Silo</c> meter.</summary>
internal sealed class EmitterMetrics
{
    /// <summary>The meter name, for <c>AddMeter</c> in OpenTelemetry or <c>dotnet-counters</c>.</summary>
    public const string MeterName = "OrleansRooms.Silo";

    /// <summary>The instrument counting every message read from the emitter channels.</summary>
    public const string ReceivedName = "orleansrooms.emitter.messages.received";

    /// <summary>The instrument counting the messages dropped, tagged with <c>reason</c>: <c>malformed</c>, <c>backlog</c> or <c>failed</c>.</summary>
    public const string RejectedName = "orleansrooms.emitter.messages.rejected";

    private static readonly KeyValuePair<string, object?> Malformed = new("reason", "malformed");
    private static readonly KeyValuePair<string, object?> Backlog = new("reason", "backlog");
    private static readonly KeyValuePair<string, object?> Failed = new("reason", "failed");

    private readonly Counter<long> _received;
    private readonly Counter<long> _rejected;

    public EmitterMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _received = meter.CreateCounter<long>(ReceivedName, "{message}", "Messages read from the official Socket.IO emitter's Redis channels.");
        _rejected = meter.CreateCounter<long>(RejectedName, "{message}", "Emitter messages dropped: malformed, over the backlog limit, or failed on this gateway.");
    }

    public void Received() => _received.Add(1);

    /// <summary>A message that could not be translated.</summary>
    public void RejectedMalformed() => _rejected.Add(1, Malformed);

    /// <summary>A message dropped unread because too many were waiting.</summary>
    public void RejectedBacklog() => _rejected.Add(1, Backlog);

    /// <summary>A message the gateway threw on.</summary>
    public void RejectedFailed() => _rejected.Add(1, Failed);
}
