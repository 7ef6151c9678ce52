using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.Extensions.Options;
using OrleansRooms.Grains.Hosting;
using OrleansRooms.Grains.Rooms;

namespace OrleansRooms.Grains.Routing;

/// <summary>
/// On each silo, per namespace: which gateways host members of each room this silo broadcasts to, so a broadcast
/// resolves its targets with no grain call. A room is looked up once (<see cref="RouteCache.LoadAsync"/>, which
/// subscribes this silo to the room); from then on the room pushes every change of its gateways here
/// (<see cref="Silos.ISiloService.RouteChangedAsync"/>) before it acknowledges the join that caused it. Bounded by
/// <see cref="RoomsClusterOptions.RouteCacheCapacity"/> rooms in all; the least recently used are forgotten.
/// </summary>
internal sealed class RouteCaches(IGrainFactory grains, ILocalSiloDetails local, IOptions<RoomsClusterOptions> options)
{
    private readonly ConcurrentDictionary<string, RouteCache> _byNamespace = new(StringComparer.Ordinal);
    private int _count;

    /// <summary>The route cache of namespace <paramref name="ns"/>.</summary>
    public RouteCache For(string ns) =>
        _byNamespace.TryGetValue(ns, out var cache) ? cache : _byNamespace.GetOrAdd(ns, static (n, caches) => new RouteCache(n, caches), this);

    /// <summary>The version this silo holds of room <paramref name="room"/>'s route, if it follows the room.</summary>
    public long? FollowedVersion(string ns, string room) => _byNamespace.TryGetValue(ns, out var cache) ? cache.FollowedVersion(room) : null;

    /// <summary>Takes a route pushed by room <paramref name="room"/>.</summary>
    public void OnRouteChanged(string ns, string room, RoomRoute route)
    {
        if (_byNamespace.TryGetValue(ns, out var cache))
        {
            cache.OnRouteChanged(room, route);
        }
    }

    internal IGrainFactory Grains => grains;

    internal SiloAddress Self => local.SiloAddress;

    internal int Capacity => options.Value.RouteCacheCapacity;

    /// <summary>Counts an entry added (or removed, negative) across every namespace; returns the new total.</summary>
    internal int Count(int delta) => Interlocked.Add(ref _count, delta);
}

/// <summary>The routes of one namespace's rooms on this silo (<see cref="RouteCaches"/>). Thread-safe.</summary>
internal sealed class RouteCache
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly string _namespace;
    private readonly RouteCaches _caches;

    internal RouteCache(string ns, RouteCaches caches)
    {
        _namespace = ns;
        _caches = caches;
    }

    /// <summary>
    /// Adds to <paramref name="gateways"/> (once each) the gateways hosting members of each of <paramref name="rooms"/>,
    /// if every one of them is cached; false (and nothing reliable added) when one is not.
    /// </summary>
    public bool TryResolve(IReadOnlyList<string> rooms, List<SiloAddress> gateways)
    {
        var now = Environment.TickCount64;
        lock (_lock)
        {
            for (var i = 0; i < rooms.Count; i++)
            {
                if (!_entries.TryGetValue(rooms[i], out var entry) || entry.Route is not { } route)
                {
                    return false;
                }

                entry.LastUsed = now;
                foreach (var gateway in route.Gateways)
                {
                    if (!gateways.Contains(gateway))
                    {
                        gateways.Add(gateway);
                    }
                }
            }

            return true;
        }
    }

    /// <summary>Looks room <paramref name="room"/> up in its grain, which from then on pushes its changes here.</summary>
    public Task<RoomRoute> LoadAsync(string room)
    {
        Entry entry;
        lock (_lock)
        {
            if (_entries.TryGetValue(room, out var existing))
            {
                if (existing.Route is { } route && existing.Loading is null)
                {
                    return Task.FromResult(route);
                }

                if (existing.Loading is { } loading)
                {
                    return loading;
                }
            }

            entry = existing ?? new Entry();
            if (existing is null)
            {
                _entries[room] = entry;
                if (_caches.Count(1) > _caches.Capacity)
                {
                    EvictLocked();
                }
            }

            entry.Loading = SubscribeAsync(room, entry);
            return entry.Loading;
        }
    }

    /// <summary>The version held of <paramref name="room"/>'s route, if the room is followed here.</summary>
    public long? FollowedVersion(string room)
    {
        lock (_lock)
        {
            return _entries.TryGetValue(room, out var entry) ? entry.Route?.Version ?? 0 : null;
        }
    }

    /// <summary>Takes a pushed route if the room is followed and the route is newer than the one held.</summary>
    public void OnRouteChanged(string room, RoomRoute route)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(room, out var entry) && (entry.Route is null || entry.Route.Version < route.Version))
            {
                entry.Route = route;
            }
        }
    }

    private async Task<RoomRoute> SubscribeAsync(string room, Entry entry)
    {
        await Task.Yield();
        try
        {
            var answer = await RoomGrains.Of(_caches.Grains, _namespace, room).SubscribeAsync(_caches.Self).ConfigureAwait(false);
            lock (_lock)
            {
                // A push may have come while the answer was on its way: keep the newer.
                if (entry.Route is null || entry.Route.Version < answer.Version)
                {
                    entry.Route = answer;
                }

                entry.Loading = null;
                return entry.Route;
            }
        }
        catch
        {
            lock (_lock)
            {
                entry.Loading = null;
                if (entry.Route is null && _entries.TryGetValue(room, out var current) && ReferenceEquals(current, entry))
                {
                    _entries.Remove(room);
                    _caches.Count(-1);
                }
            }

            throw;
        }
    }

    // Forgets the least recently used eighth of this namespace's rooms (never one being looked up).
    private void EvictLocked()
    {
        var candidates = new List<(long LastUsed, string Room)>(_entries.Count);
        foreach (var (room, entry) in _entries)
        {
            if (entry.Loading is null)
            {
                candidates.Add((entry.LastUsed, room));
            }
        }

        candidates.Sort(static (a, b) => a.LastUsed.CompareTo(b.LastUsed));
        var evict = Math.Max(1, candidates.Count / 8);
        for (var i = 0; i < evict && i < candidates.Count; i++)
        {
            var room = candidates[i].Room;
            _entries.Remove(room);
            _caches.Count(-1);
            // Best effort: a room that keeps pushing to a silo that forgot it costs a message that is ignored.
            _ = RoomGrains.Of(_caches.Grains, _namespace, room).UnsubscribeAsync(_caches.Self);
        }
    }

    private sealed class Entry
    {
        public RoomRoute? Route { get; set; }

        public Task<RoomRoute>? Loading { get; set; }

        public long LastUsed { get; set; } = Environment.TickCount64;
    }
}
