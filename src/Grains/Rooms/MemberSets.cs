using System.Collections.Immutable;
using OrleansRooms.Grains.Naming;

namespace OrleansRooms.Grains.Rooms;

/// <summary>
/// A room's members, grouped by the gateway hosting them: a set of 16-byte socket keys per gateway (about 30 bytes a
/// member), so routing reads the gateways without a scan and a gateway's death drops its members in one step.
/// Not thread-safe: owned by one grain activation.
/// </summary>
internal sealed class MemberSets
{
    private static readonly Comparer<SocketKey> DescendingKeys = Comparer<SocketKey>.Create(static (a, b) => b.CompareTo(a));

    // Few gateways per room: a list beats a dictionary.
    private readonly List<(SiloAddress Gateway, HashSet<SocketKey> Members)> _byGateway = [];
    private ImmutableArray<SiloAddress> _gateways = [];

    /// <summary>The number of members.</summary>
    public int Count { get; private set; }

    /// <summary>The gateways hosting at least one member.</summary>
    public ImmutableArray<SiloAddress> Gateways => _gateways;

    /// <summary>
    /// Adds <paramref name="member"/> hosted by <paramref name="gateway"/> (moving it from any other gateway). Returns
    /// whether the set of gateways changed.
    /// </summary>
    public bool Add(SocketKey member, SiloAddress gateway)
    {
        var changed = false;
        var target = -1;
        for (var i = 0; i < _byGateway.Count; i++)
        {
            var (host, members) = _byGateway[i];
            if (host.Equals(gateway))
            {
                target = i;
            }
            else if (members.Remove(member))
            {
                Count--;
                if (members.Count == 0)
                {
                    changed = true;
                }
            }
        }

        if (target < 0)
        {
            _byGateway.Add((gateway, []));
            target = _byGateway.Count - 1;
            changed = true;
        }

        if (_byGateway[target].Members.Add(member))
        {
            Count++;
        }

        if (changed)
        {
            Compact();
        }

        return changed;
    }

    /// <summary>Removes <paramref name="member"/>. Returns whether the set of gateways changed.</summary>
    public bool Remove(SocketKey member)
    {
        for (var i = 0; i < _byGateway.Count; i++)
        {
            var members = _byGateway[i].Members;
            if (members.Remove(member))
            {
                Count--;
                if (members.Count == 0)
                {
                    Compact();
                    return true;
                }

                return false;
            }
        }

        return false;
    }

    /// <summary>Removes every member hosted by <paramref name="gateway"/> and returns them (none: null).</summary>
    public HashSet<SocketKey>? RemoveGateway(SiloAddress gateway)
    {
        for (var i = 0; i < _byGateway.Count; i++)
        {
            if (_byGateway[i].Gateway.Equals(gateway))
            {
                var members = _byGateway[i].Members;
                Count -= members.Count;
                _byGateway.RemoveAt(i);
                Compact();
                return members;
            }
        }

        return null;
    }

    /// <summary>The number of members, those hosted by a gateway for which <paramref name="excluded"/> is true left out.</summary>
    public int CountWithout(Func<SiloAddress, bool> excluded)
    {
        var count = 0;
        foreach (var (gateway, members) in _byGateway)
        {
            if (!excluded(gateway))
            {
                count += members.Count;
            }
        }

        return count;
    }

    /// <summary>Every member with its gateway.</summary>
    public ImmutableArray<MemberChange> ToChanges()
    {
        var changes = ImmutableArray.CreateBuilder<MemberChange>(Count);
        foreach (var (gateway, members) in _byGateway)
        {
            foreach (var member in members)
            {
                changes.Add(new MemberChange(member.ToString(), gateway));
            }
        }

        return changes.MoveToImmutable();
    }

    /// <summary>Whether <paramref name="gateway"/> hosts a member.</summary>
    public bool Hosts(SiloAddress gateway) => _gateways.Contains(gateway);

    /// <summary>Adds the ids of the members in part <paramref name="part"/> of <paramref name="parts"/> to <paramref name="into"/>.</summary>
    public void CopyPart(int part, int parts, ImmutableArray<string>.Builder into)
    {
        foreach (var (_, members) in _byGateway)
        {
            foreach (var member in members)
            {
                if (parts == 1 || RoomPages.PartOf(member, parts) == part)
                {
                    into.Add(member.ToString());
                }
            }
        }
    }

    /// <summary>
    /// The <paramref name="limit"/> smallest members greater than <paramref name="after"/> (null: all of them), with
    /// <paramref name="extra"/>, a member held outside these sets, among them; ascending, and whether more follow.
    /// </summary>
    public (List<SocketKey> Page, bool More) PageAfter(SocketKey? after, int limit, SocketKey? extra)
    {
        // One pass keeping the limit + 1 smallest keys in a heap whose top is the largest: O(n log limit), whatever the
        // room's size, and no sorted copy of the room kept between pages.
        var heap = new PriorityQueue<SocketKey, SocketKey>(limit + 1, DescendingKeys);
        foreach (var (_, members) in _byGateway)
        {
            foreach (var member in members)
            {
                Offer(heap, member, after, limit);
            }
        }

        if (extra is { } held)
        {
            Offer(heap, held, after, limit);
        }

        var more = heap.Count > limit;
        if (more)
        {
            heap.Dequeue();
        }

        var page = new List<SocketKey>(heap.Count);
        while (heap.Count > 0)
        {
            page.Add(heap.Dequeue());
        }

        page.Reverse();
        return (page, more);
    }

    private static void Offer(PriorityQueue<SocketKey, SocketKey> heap, SocketKey member, SocketKey? after, int limit)
    {
        if (after is { } cursor && member.CompareTo(cursor) <= 0)
        {
            return;
        }

        if (heap.Count <= limit)
        {
            heap.Enqueue(member, member);
        }
        else if (member.CompareTo(heap.Peek()) < 0)
        {
            heap.EnqueueDequeue(member, member);
        }
    }

    private void Compact()
    {
        _byGateway.RemoveAll(static entry => entry.Members.Count == 0);
        var gateways = ImmutableArray.CreateBuilder<SiloAddress>(_byGateway.Count);
        foreach (var (gateway, _) in _byGateway)
        {
            gateways.Add(gateway);
        }

        _gateways = gateways.MoveToImmutable();
    }
}
