using System.Diagnostics.Metrics;
using OrleansRooms.Engine;

namespace OrleansRooms.Tests.Engine;

/// <summary>
/// Waits for an Engine.IO server's open session count, woken by each change of its <c>orleansrooms.engine.connections</c>
/// counter (recorded after the count changed), never by a timer.
/// </summary>
internal static class OpenSessions
{
    public static async Task WaitForAsync(EngineServer engine, IMeterFactory meters, int count)
    {
        using var changed = new SemaphoreSlim(0);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // Only this server's meter: tests running in parallel have their own.
            if (instrument.Meter.Scope == meters && instrument.Name == "orleansrooms.engine.connections")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, _, _) => changed.Release());
        listener.Start();

        using var timeout = new CancellationTokenSource(EngineTestServer.Timeout);
        while (engine.OpenSessionCount != count)
        {
            try
            {
                await changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"{engine.OpenSessionCount} Engine.IO sessions open after {EngineTestServer.Timeout}, {count} expected");
            }
        }
    }
}
