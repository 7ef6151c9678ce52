namespace OrleansRooms.Grains.Rooms;

/// <summary>
/// On each silo: the room halves active here that have members on each gateway, so that when a gateway leaves the
/// cluster only its rooms are told (<see cref="Silos.ClusterLossHandler"/>), and the gateways known to have left, so a
/// room never takes a member hosted by one. Thread-safe.
/// </summary>
internal sealed class RoomRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<SiloAddress, HashSet<IAddressable>> _byGateway = [];
    private readonly HashSet<SiloAddress> _lost = [];

    /// <summary>Records that <paramref name="room"/> has members on <paramref name="gateway"/>; false when that gateway has left the cluster.</summary>
    public bool Track(SiloAddress gateway, IAddressable room)
    {
        lock (_lock)
        {
            if (_lost.Contains(gateway))
            {
                return false;
            }

            if (!_byGateway.TryGetValue(gateway, out var rooms))
            {
                _byGateway[gateway] = rooms = new(ReferenceEqualityComparer.Instance);
            }

            rooms.Add(room);
            return true;
        }
    }

    /// <summary>Records that <paramref name="room"/> has no member on <paramref name="gateway"/> any more.</summary>
    public void Untrack(SiloAddress gateway, IAddressable room)
    {
        lock (_lock)
        {
            if (_byGateway.TryGetValue(gateway, out var rooms) && rooms.Remove(room) && rooms.Count == 0)
            {
                _byGateway.Remove(gateway);
            }
        }
    }

    /// <summary>The room halves active here that have members (a copy, each once).</summary>
    public List<IAddressable> All()
    {
        lock (_lock)
        {
            var all = new HashSet<IAddressable>(ReferenceEqualityComparer.Instance);
            foreach (var rooms in _byGateway.Values)
            {
                all.UnionWith(rooms);
            }

            return [.. all];
        }
    }

    /// <summary>Whether <paramref name="room"/> is tracked here (it has members).</summary>
    public bool Holds(IAddressable room)
    {
        lock (_lock)
        {
            foreach (var rooms in _byGateway.Values)
            {
                if (rooms.Contains(room))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Whether <paramref name="gateway"/> is known to have left the cluster.</summary>
    public bool IsLost(SiloAddress gateway)
    {
        lock (_lock)
        {
            return _lost.Contains(gateway);
        }
    }

    /// <summary>Marks <paramref name="gateway"/> as gone and returns the rooms with members on it.</summary>
    public List<IAddressable> Lose(SiloAddress gateway)
    {
        lock (_lock)
        {
            _lost.Add(gateway);
            return _byGateway.Remove(gateway, out var rooms) ? [.. rooms] : [];
        }
    }

    /// <summary>Forgets gateways that membership no longer lists at all (their entries expired), so the set stays bounded.</summary>
    public void Prune(Func<SiloAddress, bool> stillListed)
    {
        lock (_lock)
        {
            _lost.RemoveWhere(gateway => !stillListed(gateway));
        }
    }
}
