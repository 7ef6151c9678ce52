using System.Diagnostics.Metrics;

namespace OrleansRooms.Silo.Hosting;

/// <summary>The cluster engine's counters, on the <c>OrleansRooms.Cluster</c> meter.</summary>
internal sealed class ClusterMetrics
{
    /// <summary>The meter name, for <c>AddMeter</c> in OpenTelemetry or <c>dotnet-counters</c>.</summary>
    public const string MeterName = "OrleansRooms.Cluster";

    private readonly Counter<long> _failures;
    private readonly Counter<long> _reaped;
    private readonly Counter<long> _republished;

    public ClusterMetrics(IMeterFactory? meterFactory)
    {
        // Without a factory (a gateway built by hand, tests) the meter is still listenable by name.
        var meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _failures = meter.CreateCounter<long>("orleansrooms.cluster.failures", "{operation}", "Grain calls, publishes and heartbeats that failed because Redis was unreachable or erred.");
        _reaped = meter.CreateCounter<long>("orleansrooms.cluster.reaped_sockets", "{socket}", "Sockets of dead gateways removed from their rooms.");
        _republished = meter.CreateCounter<long>("orleansrooms.cluster.republishes", "{republish}", "Times this gateway re-published its state after Redis lost it or was unreachable.");
    }

    public void Failure(string operation) => _failures.Add(1, new KeyValuePair<string, object?>("operation", operation));

    public void Reaped(int sockets) => _reaped.Add(sockets);

    public void Republished() => _republished.Add(1);
}
