using System.Diagnostics;

namespace OrleansRooms.Silo.Tests.Infrastructure;

/// <summary>
/// Records every span of one activity source that stops while it listens (every gateway of the process shares the
/// source), and lets a test wait for one.
/// </summary>
internal sealed class SpanCollector : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly Lock _lock = new();
    private readonly List<Activity> _stopped = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SpanCollector(string sourceName)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == sourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                TaskCompletionSource changed;
                lock (_lock)
                {
                    _stopped.Add(activity);
                    changed = _changed;
                    _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                changed.TrySetResult();
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>Waits for a stopped span that <paramref name="matches"/>; fails after 20 s.</summary>
    public async Task<Activity> WaitForAsync(string name, Func<Activity, bool> matches)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_stopped.Find(a => a.OperationName == name && matches(a)) is { } found)
                {
                    return found;
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No span '{name}' matched within 20 s; stopped: {string.Join(", ", Names())}");
            }
        }
    }

    private List<string> Names()
    {
        lock (_lock)
        {
            return [.. _stopped.Select(a => a.OperationName)];
        }
    }

    public void Dispose() => _listener.Dispose();
}
