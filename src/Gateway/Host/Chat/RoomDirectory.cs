namespace OrleansRooms.Host.Chat;

/// <summary>
/// The demo's room list: every room of a namespace with its number of members in the whole cluster, as the clients
/// show it. A new client gets the whole list once (event <c>rooms</c>); after that every client gets only what changed
/// (<c>rooms:changed</c>, <c>{ "room": count }</c>, count 0 for a room that is gone), coalesced so that each gateway
/// sends at most one update per <see cref="ChatOptions.RoomListInterval"/>, however fast rooms change.
/// <para>
/// Each gateway follows the namespace's presence (<see cref="Namespace.Presence"/>): every join and leave of the
/// cluster, its own sockets' and the other gateways' (and those of a dead gateway's sockets), raised once the room grain
/// has the change, and tells its own clients only. A count is the room grain's: one call per changed room and gateway
/// per interval, whatever the room's size, and never a list of members. Two changes of one room on two gateways may
/// arrive in either order; the count is read when the update leaves, so it is the room's count then.
/// </para>
/// </summary>
internal sealed class RoomDirectory : IDisposable
{
    private readonly Namespace _namespace;
    private readonly TimeSpan _interval;
    private readonly Microsoft.Extensions.Logging.ILogger _logger;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private HashSet<string> _changed = new(StringComparer.Ordinal);
    private bool _flushScheduled;

    public RoomDirectory(Namespace @namespace, TimeSpan interval, TimeProvider time, Microsoft.Extensions.Logging.ILogger logger)
    {
        _namespace = @namespace;
        _interval = interval;
        _logger = logger;
        _timer = time.CreateTimer(static state => _ = ((RoomDirectory)state!).FlushAsync(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        // Presence leaves out the sockets' own rooms, which are private here too.
        @namespace.Presence.Joined += (room, _) => MarkChanged(room);
        @namespace.Presence.Left += (room, _) => MarkChanged(room);
    }

    /// <summary>Every room of the cluster (not the sockets' own rooms) with its number of members.</summary>
    public async Task<Dictionary<string, int>> SnapshotAsync()
    {
        var rooms = await _namespace.Adapter.GetRoomNamesAsync(includeSocketRooms: false).ConfigureAwait(false);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var room in rooms)
        {
            if (await CountAsync(room).ConfigureAwait(false) is > 0 and var count)
            {
                counts[room] = count;
            }
        }

        return counts;
    }

    /// <summary>Sends <paramref name="socket"/> the whole list (event <c>rooms</c>).</summary>
    public async ValueTask SendSnapshotAsync(Socket socket) => await socket.EmitAsync("rooms", await SnapshotAsync().ConfigureAwait(false)).ConfigureAwait(false);

    public void Dispose() => _timer.Dispose();

    private void MarkChanged(string room)
    {
        lock (_lock)
        {
            _changed.Add(room);
            if (!_flushScheduled)
            {
                _flushScheduled = true;
                _timer.Change(_interval, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private async Task FlushAsync()
    {
        HashSet<string> rooms;
        lock (_lock)
        {
            rooms = _changed;
            _changed = new HashSet<string>(StringComparer.Ordinal);
        }

        try
        {
            var changes = new Dictionary<string, int>(rooms.Count, StringComparer.Ordinal);
            foreach (var room in rooms)
            {
                changes[room] = await CountAsync(room).ConfigureAwait(false);
            }

            if (changes.Count > 0)
            {
                await _namespace.Local.EmitAsync("rooms:changed", changes).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            ChatLog.RoomListFailed(_logger, ex);
        }
        finally
        {
            lock (_lock)
            {
                // Changes that came during this flush wait for their own interval.
                _flushScheduled = _changed.Count > 0;
                if (_flushScheduled)
                {
                    _timer.Change(_interval, Timeout.InfiniteTimeSpan);
                }
            }
        }
    }

    private ValueTask<int> CountAsync(string room) => _namespace.Adapter.GetRoomMemberCountAsync(room);
}
