using System.Collections.Concurrent;

namespace OrleansRooms.Engine;

/// <summary>
/// What the Engine.IO sessions of this server did since it was last read: connections opened and closed (by reason),
/// packets and bytes in and out, upgrades. Attached to an <see cref="EngineServer"/> only by those who read it (the
/// admin UI's statistics), so a server without it counts nothing.
/// </summary>
internal sealed class EngineActivity
{
    private readonly ConcurrentDictionary<string, int> _closed = new(StringComparer.Ordinal);
    private long _opened;
    private long _packetsIn;
    private long _bytesIn;
    private long _packetsOut;
    private long _bytesOut;

    /// <summary>Raised with a session's id when it has moved from long-polling to WebSocket.</summary>
    public event Action<string>? Upgraded;

    public void Opened() => Interlocked.Increment(ref _opened);

    public void Closed(string reason) => _closed.AddOrUpdate(reason, 1, static (_, count) => count + 1);

    public void Received(int bytes)
    {
        Interlocked.Increment(ref _packetsIn);
        Interlocked.Add(ref _bytesIn, bytes);
    }

    public void Sent(int packets, long bytes)
    {
        Interlocked.Add(ref _packetsOut, packets);
        Interlocked.Add(ref _bytesOut, bytes);
    }

    public void OnUpgraded(string sessionId) => Upgraded?.Invoke(sessionId);

    /// <summary>Reads the counts and starts new ones.</summary>
    public EngineActivityCounts TakeCounts()
    {
        var closed = new List<KeyValuePair<string, int>>();
        foreach (var reason in _closed.Keys)
        {
            if (_closed.TryRemove(reason, out var count))
            {
                closed.Add(new(reason, count));
            }
        }

        return new EngineActivityCounts(
            Interlocked.Exchange(ref _opened, 0),
            closed,
            Interlocked.Exchange(ref _packetsIn, 0),
            Interlocked.Exchange(ref _bytesIn, 0),
            Interlocked.Exchange(ref _packetsOut, 0),
            Interlocked.Exchange(ref _bytesOut, 0));
    }
}

/// <summary>The counts of an <see cref="EngineActivity"/> over one period.</summary>
internal readonly record struct EngineActivityCounts(
    long Opened,
    IReadOnlyList<KeyValuePair<string, int>> Closed,
    long PacketsIn,
    long BytesIn,
    long PacketsOut,
    long BytesOut);
