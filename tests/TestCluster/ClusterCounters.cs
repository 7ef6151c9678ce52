using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace OrleansRooms.TestCluster;

/// <summary>
/// Counts what the gateways of one test cluster report on their meters (a process runs several clusters at once, so
/// only the meters given to <see cref="Watch"/> count), and lets a test wait for a total instead of sleeping.
/// </summary>
internal sealed class ClusterCounters : IDisposable
{
    private readonly ConcurrentDictionary<Meter, byte> _meters = new();
    private readonly ConcurrentDictionary<string, long> _totals = new(StringComparer.Ordinal);
    private readonly List<(string Name, long Count, TaskCompletionSource Reached)> _waiters = [];
    private readonly Lock _lock = new();
    private readonly MeterListener _listener = new();

    public ClusterCounters()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (_meters.ContainsKey(instrument.Meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => Add(instrument.Name, value));
        _listener.Start();
    }

    public void Watch(Meter meter)
    {
        _meters[meter] = 0;
        // Instruments the meter created before it was watched: published to this listener already, and skipped then.
        foreach (var instrument in Instruments(meter))
        {
            _listener.EnableMeasurementEvents(instrument);
        }
    }

    public Task WhenAsync(string name, long count)
    {
        lock (_lock)
        {
            if (_totals.GetValueOrDefault(name) >= count)
            {
                return Task.CompletedTask;
            }

            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((name, count, reached));
            return reached.Task;
        }
    }

    public void Dispose() => _listener.Dispose();

    private void Add(string name, long value)
    {
        lock (_lock)
        {
            var total = _totals.AddOrUpdate(name, value, (_, old) => old + value);
            _waiters.RemoveAll(w =>
            {
                if (w.Name != name || total < w.Count)
                {
                    return false;
                }

                w.Reached.TrySetResult();
                return true;
            });
        }
    }

    private static List<Instrument> Instruments(Meter meter)
    {
        var found = new List<Instrument>();
        using var probe = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter == meter)
                {
                    found.Add(instrument);
                }
            },
        };
        probe.Start();
        return found;
    }
}
