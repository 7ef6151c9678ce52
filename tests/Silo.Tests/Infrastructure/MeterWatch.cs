using System.Diagnostics.Metrics;

namespace OrleansRooms.Silo.Tests.Infrastructure;

/// <summary>Sums what one counter of one host's meters records while it is watched, and lets a test wait for a total.</summary>
internal sealed class MeterWatch : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _byTag = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public MeterWatch(IServiceProvider host, string meterName, string instrumentName)
    {
        var factory = (IMeterFactory)host.GetService(typeof(IMeterFactory))!;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == meterName && instrument.Name == instrumentName && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var key = "";
            foreach (var tag in tags)
            {
                key += $"{tag.Key}={tag.Value};";
            }

            TaskCompletionSource changed;
            lock (_lock)
            {
                _byTag[key] = _byTag.GetValueOrDefault(key) + value;
                changed = _changed;
                _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            changed.TrySetResult();
        });
        _listener.Start();
    }

    /// <summary>The sum recorded with exactly these tags (<c>""</c> for none, <c>"reason=malformed;"</c>).</summary>
    public long Total(string tags = "")
    {
        lock (_lock)
        {
            return _byTag.GetValueOrDefault(tags);
        }
    }

    /// <summary>Waits until <see cref="Total"/> of <paramref name="tags"/> reaches <paramref name="atLeast"/>; fails after 20 s.</summary>
    public async Task WaitForAsync(long atLeast, string tags = "")
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_byTag.GetValueOrDefault(tags) >= atLeast)
                {
                    return;
                }

                changed = _changed.Task;
            }

            await changed.WaitAsync(timeout.Token);
        }
    }

    public void Dispose() => _listener.Dispose();
}
