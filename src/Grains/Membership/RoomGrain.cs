using System.Collections.Immutable;
using Orleans.Placement;

namespace OrleansRooms.Grains.Membership;

/// <summary>
/// Owns the members of one room and, for routing, how many of them each gateway hosts. Never collected while it has a
/// member; once empty (or when only asked about: a broadcast to a room nobody joined) it is collected after two minutes
/// idle, like any grain, so rooms that are any names cost no memory for long and busy empty rooms do not churn.
/// Lost with its silo, it is rebuilt by the gateways' re-publish.
/// </summary>
[PreferLocalPlacement, CollectionAgeLimit(Minutes = 2), GrainType("orleansrooms-room")]
internal sealed class RoomGrain : Grain, IRoomGrain
{
    private readonly Dictionary<string, SiloAddress> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<SiloAddress, int> _gatewayCounts = [];
    private ImmutableArray<SiloAddress> _gateways = [];

    public Task AddAsync(string socketId, SiloAddress gateway)
    {
        Add(socketId, gateway);
        return Task.CompletedTask;
    }

    public Task RemoveAsync(string socketId)
    {
        if (!_members.Remove(socketId, out var gateway))
        {
            return Task.CompletedTask;
        }

        Decrement(gateway);
        Emptied();
        return Task.CompletedTask;
    }

    public Task RemoveGatewayAsync(SiloAddress gateway)
    {
        if (_gatewayCounts.Remove(gateway))
        {
            var gone = new List<string>();
            foreach (var (id, host) in _members)
            {
                if (host.Equals(gateway))
                {
                    gone.Add(id);
                }
            }

            foreach (var id in gone)
            {
                _members.Remove(id);
            }

            _gateways = [.. _gatewayCounts.Keys];
            Emptied();
        }

        return Task.CompletedTask;
    }

    public Task<ImmutableArray<SiloAddress>> GetGatewaysAsync() => Task.FromResult(_gateways);

    public Task<ImmutableArray<string>> GetMembersAsync() => Task.FromResult(_members.Keys.ToImmutableArray());

    private void Add(string socketId, SiloAddress gateway)
    {
        if (_members.TryGetValue(socketId, out var current))
        {
            if (current.Equals(gateway))
            {
                return;
            }

            Decrement(current);
        }

        if (_members.Count == 0)
        {
            // Its members are its state: never collected while it has one.
            DelayDeactivation(Timeout.InfiniteTimeSpan);
        }

        _members[socketId] = gateway;
        if (_gatewayCounts.TryGetValue(gateway, out var count))
        {
            _gatewayCounts[gateway] = count + 1;
        }
        else
        {
            _gatewayCounts[gateway] = 1;
            _gateways = _gateways.Add(gateway);
        }
    }

    private void Decrement(SiloAddress gateway)
    {
        var count = _gatewayCounts[gateway] - 1;
        if (count > 0)
        {
            _gatewayCounts[gateway] = count;
            return;
        }

        _gatewayCounts.Remove(gateway);
        _gateways = _gateways.Remove(gateway);
    }

    // An empty room is collected like any idle grain.
    private void Emptied()
    {
        if (_members.Count == 0)
        {
            DelayDeactivation(TimeSpan.Zero);
        }
    }
}
