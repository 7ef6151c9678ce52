using System.Collections.Immutable;
using OrleansRooms.Grains.Rooms;

namespace OrleansRooms.Grains.Sessions;

/// <summary>
/// On each silo: the sessions (socket grains) active here, by the gateway hosting each, and which of them are in each
/// room. It is an index, not a second truth: a session changes it as it changes its own rooms, before it writes the room
/// grains (joins) or after (leaves), so that a room rebuilt from the registries of every silo
/// (<see cref="RoomRebuilder"/>) never misses a member it should have, and a gateway that leaves the cluster costs this
/// silo only the sessions it hosted (<see cref="Silos.ClusterLossHandler"/>). It also keeps one instance of each room and
/// namespace name, shared by every session. Thread-safe.
/// </summary>
internal sealed class SessionRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<SiloAddress, HashSet<SocketGrain>> _byGateway = [];
    private readonly Dictionary<(string Namespace, string Room), RoomEntry> _byRoom = [];
    private readonly Dictionary<string, string> _namespaces = new(StringComparer.Ordinal);
    private readonly HashSet<SiloAddress> _lost = [];

    /// <summary>The one instance of the namespace name <paramref name="ns"/>.</summary>
    public string Namespace(string ns)
    {
        lock (_lock)
        {
            if (!_namespaces.TryGetValue(ns, out var shared))
            {
                _namespaces[ns] = shared = ns;
            }

            return shared;
        }
    }

    /// <summary>Records <paramref name="session"/> as connected through <paramref name="gateway"/>; false when that gateway has left the cluster.</summary>
    public bool Connect(SocketGrain session, SiloAddress gateway)
    {
        lock (_lock)
        {
            if (_lost.Contains(gateway))
            {
                return false;
            }

            if (session.RegisteredGateway is { } previous && _byGateway.TryGetValue(previous, out var old))
            {
                old.Remove(session);
            }

            if (!_byGateway.TryGetValue(gateway, out var sessions))
            {
                _byGateway[gateway] = sessions = new(ReferenceEqualityComparer.Instance);
            }

            sessions.Add(session);
            session.RegisteredGateway = gateway;
            return true;
        }
    }

    /// <summary>Forgets <paramref name="session"/>'s gateway.</summary>
    public void Disconnect(SocketGrain session)
    {
        lock (_lock)
        {
            if (session.RegisteredGateway is { } gateway && _byGateway.TryGetValue(gateway, out var sessions) && sessions.Remove(session) && sessions.Count == 0)
            {
                _byGateway.Remove(gateway);
            }

            session.RegisteredGateway = null;
        }
    }

    /// <summary>Records that <paramref name="session"/> is in <paramref name="room"/>; returns the shared instance of the room name.</summary>
    public string Join(string ns, string room, SocketGrain session)
    {
        lock (_lock)
        {
            if (!_byRoom.TryGetValue((ns, room), out var entry))
            {
                _byRoom[(ns, room)] = entry = new RoomEntry(room);
            }

            entry.Sessions.Add(session);
            return entry.Room;
        }
    }

    /// <summary>Records that <paramref name="session"/> is no longer in <paramref name="room"/>.</summary>
    public void Leave(string ns, string room, SocketGrain session)
    {
        lock (_lock)
        {
            if (_byRoom.TryGetValue((ns, room), out var entry) && entry.Sessions.Remove(session) && entry.Sessions.Count == 0)
            {
                _byRoom.Remove((ns, room));
            }
        }
    }

    /// <summary>The members of <paramref name="room"/> whose sessions live on this silo, with their gateways.</summary>
    public ImmutableArray<MemberChange> MembersOf(string ns, string room)
    {
        lock (_lock)
        {
            if (!_byRoom.TryGetValue((ns, room), out var entry))
            {
                return [];
            }

            var members = ImmutableArray.CreateBuilder<MemberChange>(entry.Sessions.Count);
            foreach (var session in entry.Sessions)
            {
                if (session.RegisteredGateway is { } gateway)
                {
                    members.Add(new MemberChange(session.Id, gateway));
                }
            }

            return members.ToImmutable();
        }
    }

    /// <summary>Marks <paramref name="gateway"/> as gone (no session connects through it any more) and returns the sessions it hosted.</summary>
    public List<SocketGrain> Lose(SiloAddress gateway)
    {
        lock (_lock)
        {
            _lost.Add(gateway);
            return _byGateway.TryGetValue(gateway, out var sessions) ? [.. sessions] : [];
        }
    }

    /// <summary>Whether <paramref name="session"/> is registered here as connected.</summary>
    public bool Holds(SocketGrain session)
    {
        lock (_lock)
        {
            return session.RegisteredGateway is { } gateway && _byGateway.TryGetValue(gateway, out var sessions) && sessions.Contains(session);
        }
    }

    /// <summary>The sessions active here (a copy).</summary>
    public List<SocketGrain> All()
    {
        lock (_lock)
        {
            var all = new List<SocketGrain>();
            foreach (var sessions in _byGateway.Values)
            {
                all.AddRange(sessions);
            }

            return all;
        }
    }

    /// <summary>The sessions active here whose socket is on <paramref name="gateway"/> (a copy).</summary>
    public List<SocketGrain> OnGateway(SiloAddress gateway)
    {
        lock (_lock)
        {
            return _byGateway.TryGetValue(gateway, out var sessions) ? [.. sessions] : [];
        }
    }

    /// <summary>Forgets gateways that membership no longer lists at all, so the set stays bounded.</summary>
    public void Prune(Func<SiloAddress, bool> stillListed)
    {
        lock (_lock)
        {
            _lost.RemoveWhere(gateway => !stillListed(gateway));
        }
    }

    /// <summary>How many connected sessions of namespace <paramref name="ns"/> live here, and in how many rooms they are.</summary>
    public (int Sockets, int Rooms) Count(string ns)
    {
        lock (_lock)
        {
            var sockets = 0;
            foreach (var sessions in _byGateway.Values)
            {
                foreach (var session in sessions)
                {
                    if (session.Namespace == ns)
                    {
                        sockets++;
                    }
                }
            }

            var rooms = 0;
            foreach (var (ns2, _) in _byRoom.Keys)
            {
                if (ns2 == ns)
                {
                    rooms++;
                }
            }

            return (sockets, rooms);
        }
    }

    /// <summary>The ids of the connected sessions of <paramref name="ns"/> in part <paramref name="part"/> of <paramref name="parts"/>.</summary>
    public ImmutableArray<string> SocketIds(string ns, int part, int parts)
    {
        var ids = ImmutableArray.CreateBuilder<string>();
        lock (_lock)
        {
            foreach (var sessions in _byGateway.Values)
            {
                foreach (var session in sessions)
                {
                    if (session.Namespace == ns && PartOf(session.Id, parts) == part)
                    {
                        ids.Add(session.Id);
                    }
                }
            }
        }

        return ids.ToImmutable();
    }

    /// <summary>The rooms of <paramref name="ns"/> with a member here, in part <paramref name="part"/> of <paramref name="parts"/> (sockets' own rooms are their ids: <see cref="SocketIds"/>).</summary>
    public ImmutableArray<string> RoomNames(string ns, int part, int parts)
    {
        var rooms = ImmutableArray.CreateBuilder<string>();
        lock (_lock)
        {
            foreach (var (key, entry) in _byRoom)
            {
                if (key.Namespace == ns && PartOf(entry.Room, parts) == part)
                {
                    rooms.Add(entry.Room);
                }
            }
        }

        return rooms.ToImmutable();
    }

    /// <summary>The part a name belongs to when a listing is read in parts: a stable hash (FNV-1a), the same in every process.</summary>
    public static int PartOf(string name, int parts)
    {
        if (parts == 1)
        {
            return 0;
        }

        var hash = 2166136261u;
        foreach (var c in name)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % (uint)parts);
    }

    private sealed class RoomEntry(string room)
    {
        public string Room { get; } = room;

        public HashSet<SocketGrain> Sessions { get; } = new(ReferenceEqualityComparer.Instance);
    }
}
