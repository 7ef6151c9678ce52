using System.Diagnostics.Metrics;

namespace OrleansRooms.Engine;

/// <summary>Engine.IO instruments on the <c>OrleansRooms.Gateway</c> meter; recorded without tags so nothing is allocated per packet.</summary>
internal sealed class EngineMetrics
{
    internal const string MeterName = "OrleansRooms.Gateway";

    public EngineMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        Connections = meter.CreateUpDownCounter<long>("orleansrooms.engine.connections", "{session}", "Open Engine.IO sessions.");
        PacketsReceived = meter.CreateCounter<long>("orleansrooms.engine.packets.received", "{packet}", "Engine.IO packets received from clients.");
        PacketsSent = meter.CreateCounter<long>("orleansrooms.engine.packets.sent", "{packet}", "Engine.IO packets written to clients.");
        Upgrades = meter.CreateCounter<long>("orleansrooms.engine.upgrades", "{session}", "Sessions upgraded from long-polling to WebSocket.");
        SendBufferOverflows = meter.CreateCounter<long>("orleansrooms.engine.send_buffer.overflows", "{session}", "Sessions closed because more than MaxSendBufferSize bytes waited to be sent to a client that did not read them.");
    }

    public UpDownCounter<long> Connections { get; }

    public Counter<long> PacketsReceived { get; }

    public Counter<long> PacketsSent { get; }

    public Counter<long> Upgrades { get; }

    public Counter<long> SendBufferOverflows { get; }
}
