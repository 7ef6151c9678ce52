using Microsoft.Extensions.Logging;

namespace OrleansRooms.Host.Chat;

/// <summary>
/// The demo's room list: every room of a namespace with its number of members in the whole cluster, as the clients
/// show it. A new client gets the whole list once (event <c>rooms</c>); after that every client gets only what changed
/// (<c>rooms:changed</c>, <c>{ "room": count }</c>, count 0 for a room that is gone), coalesced so that at most one
/// update per <see cref="ChatOptions.RoomListInterval"/> is sent by each gateway, however fast rooms change.
/// <para>
/// Each gateway reports the rooms its own sockets joined or left (and those of a dead gateway it released), with the
/// counts of the room grains, read when it sends: to every client of the namespace, and to the other gateways
/// (<c>ServerSideEmitAsync</c>) so their lists for newcomers stay current. Two gateways changing one room at once may
/// send their counts in either order; the next change of that room sends the right count again.
/// </para>
/// </summary>
internal sealed class RoomDirectory : IDisposable
{
    private const string Changed = "rooms:changed";

    private readonly Namespace _namespace;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    private HashSet<string> _changed = new(StringComparer.Ordinal);
    private Task? _loaded;
    private bool _flushScheduled;

    public RoomDirectory(Namespace @namespace, TimeSpan interval, TimeProvider time, ILogger logger)
    {
        _namespace = @namespace;
        _interval = interval;
        _logger = logger;
        _timer = time.CreateTimer(static state => _ = ((RoomDirectory)state!).FlushAsync(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        // A socket's own room (named after its id) is private: not listed.
        @namespace.Adapter.JoinRoom += (room, id) =>
        {
            if (room != id)
            {
                MarkChanged(room);
            }
        };
        @namespace.Adapter.LeaveRoom += (room, id) =>
        {
            if (room != id)
            {
                MarkChanged(room);
            }
        };
        @namespace.OnServerSideEmit(Changed, e => Apply(e.Get<Dictionary<string, int>>(0) ?? []));
    }

    /// <summary>The number of members of <paramref name="room"/> as last counted; 0 when it does not exist.</summary>
    public int CountOf(string room)
    {
        lock (_lock)
        {
            return _counts.GetValueOrDefault(room);
        }
    }

    /// <summary>Every room with its number of members.</summary>
    public async Task<Dictionary<string, int>> SnapshotAsync()
    {
        await LoadAsync().ConfigureAwait(false);
        lock (_lock)
        {
            return new Dictionary<string, int>(_counts, StringComparer.Ordinal);
        }
    }

    /// <summary>Sends <paramref name="socket"/> the whole list (event <c>rooms</c>), in order with the updates.</summary>
    public async ValueTask SendSnapshotAsync(Socket socket)
    {
        await LoadAsync().ConfigureAwait(false);
        ValueTask sending;
        // Queued under the lock, as updates are: the client never gets an update older than its list after the list.
        lock (_lock)
        {
            sending = socket.EmitAsync("rooms", new Dictionary<string, int>(_counts, StringComparer.Ordinal));
        }

        await sending.ConfigureAwait(false);
    }

    public void Dispose() => _timer.Dispose();

    // The rooms that exist when this gateway starts listing them: the namespace's rooms that are not sockets' own.
    private Task LoadAsync()
    {
        lock (_lock)
        {
            return _loaded ??= LoadCountsAsync();
        }
    }

    private async Task LoadCountsAsync()
    {
        var adapter = _namespace.Adapter;
        var sockets = (await adapter.GetSocketIdsAsync().ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var room in await adapter.GetRoomNamesAsync().ConfigureAwait(false))
        {
            if (!sockets.Contains(room))
            {
                counts[room] = (await adapter.GetRoomMembersAsync(room).ConfigureAwait(false)).Count;
            }
        }

        lock (_lock)
        {
            foreach (var (room, count) in counts)
            {
                // A count a flush or another gateway set meanwhile is newer; a change still pending is counted when it flushes.
                if (count > 0)
                {
                    _counts.TryAdd(room, count);
                }
            }
        }
    }

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

    private void Apply(Dictionary<string, int> changes)
    {
        lock (_lock)
        {
            foreach (var (room, count) in changes)
            {
                if (count > 0)
                {
                    _counts[room] = count;
                }
                else
                {
                    _counts.Remove(room);
                }
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
            if (rooms.Count > 0)
            {
                var changes = new Dictionary<string, int>(rooms.Count, StringComparer.Ordinal);
                foreach (var room in rooms)
                {
                    changes[room] = (await _namespace.Adapter.GetRoomMembersAsync(room).ConfigureAwait(false)).Count;
                }

                ValueTask toClients;
                lock (_lock)
                {
                    Apply(changes);
                    toClients = _namespace.EmitAsync(Changed, changes);
                }

                await toClients.ConfigureAwait(false);
                await _namespace.ServerSideEmitAsync(Changed, changes).ConfigureAwait(false);
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
}
