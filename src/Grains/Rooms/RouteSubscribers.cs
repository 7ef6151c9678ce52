using System.Collections.Immutable;

namespace OrleansRooms.Grains.Rooms;

/// <summary>
/// The silos whose route caches follow a room (they broadcast to it), and the version of the room's route: each change
/// of the gateways hosting members gets the next version, so a cache that hears two changes out of order keeps the
/// newer. Bounded by the number of silos. Not thread-safe: owned by one grain activation.
/// </summary>
internal sealed class RouteSubscribers
{
    private ImmutableArray<SiloAddress> _silos = [];

    /// <summary>The version of the current route.</summary>
    public long Version { get; private set; }

    /// <summary>The silos to push changes to.</summary>
    public ImmutableArray<SiloAddress> Silos => _silos;

    /// <summary>Adds <paramref name="silo"/> and returns the current route.</summary>
    public RoomRoute Subscribe(SiloAddress silo, ImmutableArray<SiloAddress> gateways)
    {
        if (!_silos.Contains(silo))
        {
            _silos = _silos.Add(silo);
        }

        return new RoomRoute(gateways, Version);
    }

    /// <summary>Removes the silos for which <paramref name="gone"/> is true.</summary>
    public void Prune(Func<SiloAddress, bool> gone)
    {
        foreach (var silo in _silos)
        {
            if (gone(silo))
            {
                _silos = _silos.Remove(silo);
            }
        }
    }

    /// <summary>Removes <paramref name="silo"/>.</summary>
    public void Unsubscribe(SiloAddress silo) => _silos = _silos.Remove(silo);

    /// <summary>The route after a change of the gateways, with the next version.</summary>
    public RoomRoute Next(ImmutableArray<SiloAddress> gateways) => new(gateways, ++Version);

    /// <summary>
    /// After a rebuild: the silos whose caches still followed the room's lost activation, and a version above every
    /// version they hold, so the next push supersedes what they have.
    /// </summary>
    public void Restore(ImmutableArray<SiloAddress> silos, long newestHeld)
    {
        _silos = silos;
        Version = newestHeld + 1;
    }
}
