using Microsoft.Extensions.Logging;

namespace OrleansRooms.Host.Chat;

/// <summary>
/// The demo's room list: every room of a namespace with its number of members, as the clients show it. A new client
/// gets the whole list once (event <c>rooms</c>); after that every client gets only what changed
/// (<c>rooms:changed</c>, <c>{ "room": count }</c>, count 0 for a room that is gone), coalesced so that at most one
/// update per <see cref="ChatOptions.RoomListInterval"/> is sent, however fast rooms change.
/// <para>
/// This is the one place that knows where the counts come from: today the namespace's <see cref="Adapter"/> events on
/// this node (so in a cluster each gateway lists its own clients' rooms, as before). Making the list cluster-wide
/// (room grains) means changing <see cref="Apply"/>'s sources and <see cref="CountOf"/> here, nothing else.
/// </para>
/// </summary>
internal sealed class RoomDirectory : IDisposable
{
    private readonly Namespace _namespace;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    private HashSet<string> _changed = new(StringComparer.Ordinal);
    private bool _flushScheduled;

    public RoomDirectory(Namespace @namespace, TimeSpan interval, TimeProvider time, ILogger logger)
    {
        _namespace = @namespace;
        _interval = interval;
        _logger = logger;
        _timer = time.CreateTimer(static state => ((RoomDirectory)state!).Flush(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        // A socket's own room (named after its id) is private: not listed.
        @namespace.Adapter.JoinRoom += (room, id) =>
        {
            if (room != id)
            {
                Apply(room, +1);
            }
        };
        @namespace.Adapter.LeaveRoom += (room, id) =>
        {
            if (room != id)
            {
                Apply(room, -1);
            }
        };
    }

    /// <summary>The number of members of <paramref name="room"/>; 0 when it does not exist.</summary>
    public int CountOf(string room)
    {
        lock (_lock)
        {
            return _counts.GetValueOrDefault(room);
        }
    }

    /// <summary>Every room with its number of members.</summary>
    public Dictionary<string, int> Snapshot()
    {
        lock (_lock)
        {
            return new Dictionary<string, int>(_counts, StringComparer.Ordinal);
        }
    }

    /// <summary>Sends <paramref name="socket"/> the whole list (event <c>rooms</c>), in order with the updates.</summary>
    public ValueTask SendSnapshotAsync(Socket socket)
    {
        // Queued under the lock, as updates are: the client never gets an update older than its list after the list.
        lock (_lock)
        {
            return socket.EmitAsync("rooms", new Dictionary<string, int>(_counts, StringComparer.Ordinal));
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Apply(string room, int delta)
    {
        lock (_lock)
        {
            var count = _counts.GetValueOrDefault(room) + delta;
            if (count > 0)
            {
                _counts[room] = count;
            }
            else
            {
                _counts.Remove(room);
            }

            _changed.Add(room);
            if (!_flushScheduled)
            {
                _flushScheduled = true;
                _timer.Change(_interval, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void Flush()
    {
        ValueTask sending;
        lock (_lock)
        {
            _flushScheduled = false;
            if (_changed.Count == 0)
            {
                return;
            }

            var changes = new Dictionary<string, int>(_changed.Count, StringComparer.Ordinal);
            foreach (var room in _changed)
            {
                changes[room] = _counts.GetValueOrDefault(room);
            }

            _changed = new HashSet<string>(StringComparer.Ordinal);
            sending = Emit(changes);
        }

        _ = ObserveAsync(sending);
    }

    private ValueTask Emit(Dictionary<string, int> changes)
    {
        try
        {
            return _namespace.EmitAsync("rooms:changed", changes);
        }
        catch (Exception ex)
        {
            return ValueTask.FromException(ex);
        }
    }

    private async Task ObserveAsync(ValueTask sending)
    {
        try
        {
            await sending;
        }
        catch (Exception ex)
        {
            ChatLog.RoomListFailed(_logger, ex);
        }
    }
}
