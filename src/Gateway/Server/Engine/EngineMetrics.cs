using System.Diagnostics.Metrics;

namespace OrleansRooms.Engine;

/// <summary>Engine.IO instruments on the <c>OrleansRooms.Gateway</c> meter; recorded without tags per packet, so nothing is allocated for one.</summary>
internal sealed class EngineMetrics
{
    internal const string MeterName = "OrleansRooms.Gateway";

    /// <param name="meterFactory">The host's meters.</param>
    /// <param name="sendBufferUsage">The bytes waiting to be sent to every client, read when the meter is collected.</param>
    public EngineMetrics(IMeterFactory meterFactory, Func<long> sendBufferUsage)
    {
        var meter = meterFactory.Create(MeterName);
        Connections = meter.CreateUpDownCounter<long>("orleansrooms.engine.connections", "{session}", "Open Engine.IO sessions.");
        PacketsReceived = meter.CreateCounter<long>("orleansrooms.engine.packets.received", "{packet}", "Engine.IO packets received from clients.");
        PacketsSent = meter.CreateCounter<long>("orleansrooms.engine.packets.sent", "{packet}", "Engine.IO packets written to clients.");
        Upgrades = meter.CreateCounter<long>("orleansrooms.engine.upgrades", "{session}", "Sessions upgraded from long-polling to WebSocket.");
        SendBufferOverflows = meter.CreateCounter<long>("orleansrooms.engine.send_buffer.overflows", "{session}", "Sessions closed because more than MaxSendBufferSize bytes waited to be sent to a client that did not read them.");
        meter.CreateObservableUpDownCounter("orleansrooms.engine.send_buffer.usage", sendBufferUsage, "By", "Bytes waiting to be sent to clients, over every open session (queued, or being written).");
        HandshakeDuration = meter.CreateHistogram<double>(
            "orleansrooms.engine.handshake.duration", "s",
            "Time an Engine.IO handshake took, from its request until the session was open and its open packet written (polling) or queued (WebSocket).",
            tags: null, Hosting.GatewayMetrics.DurationAdvice);
    }

    public UpDownCounter<long> Connections { get; }

    public Counter<long> PacketsReceived { get; }

    public Counter<long> PacketsSent { get; }

    public Counter<long> Upgrades { get; }

    public Counter<long> SendBufferOverflows { get; }

    /// <summary>Tagged with <c>engineio.transport</c>: <c>polling</c> or <c>websocket</c>.</summary>
    public Histogram<double> HandshakeDuration { get; }
}
