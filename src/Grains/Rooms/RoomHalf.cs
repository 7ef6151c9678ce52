using System.Collections.Immutable;
using OrleansRooms.Grains.Naming;
using OrleansRooms.Grains.Routing;

namespace OrleansRooms.Grains.Rooms;

/// <summary>
/// The room's half of the relation for one room, as a grain holds it (<see cref="RoomGrain"/>, or a socket grain for
/// the room named by its id): the members by gateway, the silos following its route, and what keeps both true: the
/// rebuild from the sessions when the grain activates, the pushes of each route change, and the release of a dead
/// gateway's members. Not thread-safe: it lives inside one activation.
/// </summary>
internal sealed class RoomHalf
{
    private readonly MemberSets _members = new();
    private readonly RouteSubscribers _followers = new();
    private readonly string _namespace;
    private readonly string _room;
    private readonly IAddressable _grain;
    private readonly RoomServices _services;
    private SiloAddress? _implicitGateway;
    private ImmutableArray<SiloAddress> _route = [];

    /// <summary>A room half for <paramref name="grain"/>; <paramref name="implicitGateway"/> is the gateway of the socket whose own room this is, if any.</summary>
    public RoomHalf(string ns, string room, IAddressable grain, RoomServices services, SiloAddress? implicitGateway = null)
    {
        _namespace = ns;
        _room = room;
        _grain = grain;
        _services = services;
        _implicitGateway = implicitGateway;
        _route = implicitGateway is null ? [] : [implicitGateway];
    }

    /// <summary>
    /// The number of members (the implicit member, a socket in its own room, not included), those of gateways known to
    /// have left the cluster not counted: they are being dropped.
    /// </summary>
    public int Count => _members.CountWithout(_services.Rooms.IsLost);

    /// <summary>Whether the room has no member, explicit or implicit.</summary>
    public bool IsEmpty => _members.Count == 0 && _implicitGateway is null;

    /// <summary>Fills the half from what every silo holds of it, then tells the silos following it the route as rebuilt.</summary>
    public async Task RebuildAsync()
    {
        var rebuilt = await _services.Rebuilder.RebuildAsync(_namespace, _room);
        foreach (var member in rebuilt.Members)
        {
            Add(SocketKey.Parse(member.SocketId), member.Gateway!);
        }

        _followers.Restore(rebuilt.Followers, rebuilt.NewestVersion);
        _followers.Prune(_services.IsDead);
        _route = RouteGateways();
        if (!rebuilt.Followers.IsEmpty)
        {
            // A join written to the lost activation whose push never left it is in the rebuilt members: its
            // followers learn it before any call is answered.
            await _services.Publisher.PushAsync(_namespace, _room, new RoomRoute(_route, _followers.Version), _followers.Silos);
        }
    }

    /// <summary>The state to move to another silo with the grain.</summary>
    public RoomState Save() => new(_members.ToChanges(), _followers.Silos, _followers.Version);

    /// <summary>Takes the state of the grain's activation on another silo, moved here whole.</summary>
    public void Restore(RoomState state)
    {
        foreach (var member in state.Members)
        {
            Add(SocketKey.Parse(member.SocketId), member.Gateway!);
        }

        _followers.Restore(state.Followers, state.Version - 1);
        _route = RouteGateways();
    }

    /// <summary>Applies a batch of changes; completes once followers know of every gateway the batch added.</summary>
    public Task ApplyAsync(ImmutableArray<MemberChange> changes)
    {
        var changed = false;
        foreach (var change in changes)
        {
            var member = SocketKey.Parse(change.SocketId);
            changed |= change.Gateway is { } gateway ? Add(member, gateway) : Remove(member);
        }

        return changed ? PublishAsync() : Task.CompletedTask;
    }

    /// <summary>The socket whose own room this is connected through <paramref name="gateway"/> (or, null, not connected).</summary>
    public Task SetImplicitGatewayAsync(SiloAddress? gateway)
    {
        if (Equals(_implicitGateway, gateway))
        {
            return Task.CompletedTask;
        }

        _implicitGateway = gateway;
        return PublishAsync();
    }

    /// <summary>Registers <paramref name="silo"/>'s route cache and returns the route.</summary>
    public RoomRoute Subscribe(SiloAddress silo) => _followers.Subscribe(silo, _route);

    public void Unsubscribe(SiloAddress silo) => _followers.Unsubscribe(silo);

    /// <summary>
    /// Gateway <paramref name="gateway"/> left the cluster: its members leave. Returns whether that emptied the room (the
    /// members' sessions report their own leaving).
    /// </summary>
    public bool OnGatewayLost(SiloAddress gateway)
    {
        _followers.Unsubscribe(gateway);
        if (_members.RemoveGateway(gateway) is null)
        {
            return false;
        }

        _services.Rooms.Untrack(gateway, _grain);
        // A gateway removed: followers may learn it late, the receivers filter with their own tables.
        PublishAsync().Ignore();
        return IsEmpty;
    }

    /// <summary>The member ids of part <paramref name="part"/> of <paramref name="parts"/>.</summary>
    public ImmutableArray<string> GetMembers(int part, int parts)
    {
        var ids = ImmutableArray.CreateBuilder<string>();
        _members.CopyPart(part, parts, ids);
        return ids.ToImmutable();
    }

    /// <summary>
    /// At most <paramref name="limit"/> member ids after member <paramref name="after"/> in key order (see
    /// <see cref="IRoomMembers.GetMembersAfterAsync"/>), <paramref name="implicitMember"/> (the socket in its own room)
    /// among them.
    /// </summary>
    public MemberPage GetMembersAfter(string? after, int limit, string? implicitMember = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, RoomPages.PageSize);
        SocketKey? cursor = after is null ? null : SocketKey.Parse(after);
        SocketKey? held = implicitMember is null ? null : SocketKey.Parse(implicitMember);
        var (page, more) = _members.PageAfter(cursor, limit, held);
        var ids = ImmutableArray.CreateBuilder<string>(page.Count);
        foreach (var member in page)
        {
            ids.Add(member.ToString());
        }

        return new MemberPage(ids.MoveToImmutable(), more);
    }

    /// <summary>The grain is deactivating: its gateways are no longer tracked here.</summary>
    public void Close()
    {
        foreach (var gateway in _members.Gateways)
        {
            _services.Rooms.Untrack(gateway, _grain);
        }
    }

    private bool Add(SocketKey member, SiloAddress gateway)
    {
        if (!_members.Hosts(gateway) && !_services.Rooms.Track(gateway, _grain))
        {
            // The gateway left the cluster: its sockets are gone, and its session clears its rooms.
            return false;
        }

        var before = _members.Gateways;
        var changed = _members.Add(member, gateway);
        if (changed)
        {
            Untrack(before);
        }

        return changed;
    }

    private bool Remove(SocketKey member)
    {
        var before = _members.Gateways;
        var changed = _members.Remove(member);
        if (changed)
        {
            Untrack(before);
        }

        return changed;
    }

    private void Untrack(ImmutableArray<SiloAddress> before)
    {
        foreach (var gateway in before)
        {
            if (!_members.Hosts(gateway))
            {
                _services.Rooms.Untrack(gateway, _grain);
            }
        }
    }

    private Task PublishAsync()
    {
        var before = _route;
        _route = RouteGateways();
        if (_route.SequenceEqual(before))
        {
            return Task.CompletedTask;
        }

        // A follower that died follows nothing any more: its cache died with it.
        _followers.Prune(_services.IsDead);
        var push = _services.Publisher.PushAsync(_namespace, _room, _followers.Next(_route), _followers.Silos);
        foreach (var gateway in _route)
        {
            if (!before.Contains(gateway))
            {
                return push;
            }
        }

        // Only gateways removed: a broadcast that still goes there is filtered by that gateway's own table.
        return Task.CompletedTask;
    }

    private ImmutableArray<SiloAddress> RouteGateways()
    {
        var gateways = _members.Gateways;
        return _implicitGateway is { } implicitGateway && !gateways.Contains(implicitGateway) ? gateways.Add(implicitGateway) : gateways;
    }
}

/// <summary>A room half moving between silos with its grain: its members, the silos following its route and the route's version.</summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.room-state")]
internal sealed record RoomState(
    [property: Id(0)] ImmutableArray<MemberChange> Members,
    [property: Id(1)] ImmutableArray<SiloAddress> Followers,
    [property: Id(2)] long Version);

/// <summary>What a room half needs of its silo, in one object so each grain takes one dependency.</summary>
internal sealed class RoomServices(RoomRegistry rooms, RoutePublisher publisher, RoomRebuilder rebuilder, IClusterMembershipService membership)
{
    public RoomRegistry Rooms { get; } = rooms;

    public RoutePublisher Publisher { get; } = publisher;

    public RoomRebuilder Rebuilder { get; } = rebuilder;

    /// <summary>Whether membership declared <paramref name="silo"/> dead.</summary>
    public bool IsDead(SiloAddress silo) => membership.CurrentSnapshot.GetSiloStatus(silo) == SiloStatus.Dead;
}
