using System.Collections.Immutable;
using Orleans.Placement;
using OrleansRooms.Grains.Gateways;

namespace OrleansRooms.Grains.Membership;

/// <summary>
/// Owns the rooms of one socket (beyond its own-id room) and the gateway hosting it. Placed on the silo of the caller,
/// which is always the socket's gateway: it connects the grain before anyone else knows the socket id. Never collected
/// while connected; deactivates when the socket disconnects. Asked about an id that is no connected socket, it is
/// collected after two minutes idle, like any grain.
/// </summary>
/// <remarks>
/// The place where a disconnected socket's session would outlive its connection for a bounded window (Socket.IO's
/// connection state recovery): <see cref="DisconnectAsync"/> would keep the rooms and the id instead of deactivating,
/// and a reconnecting client on any gateway would find them here by its id.
/// </remarks>
[PreferLocalPlacement, CollectionAgeLimit(Minutes = 2), GrainType("orleansrooms-socket")]
internal sealed class SocketGrain(IGrainFactory grains, GatewayCopyWriter copies) : Grain, ISocketGrain
{
    private readonly HashSet<string> _rooms = new(StringComparer.Ordinal);
    private string _namespace = "";
    private string _id = "";
    private SiloAddress? _gateway;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_namespace, _id) = GrainKeys.Split(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public Task ConnectAsync(SiloAddress gateway)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        _gateway = gateway;
        DelayDeactivation(Timeout.InfiniteTimeSpan);
        return Copy(gateway, SocketChangeKind.Join, []);
    }

    public Task JoinAsync(ImmutableArray<string> rooms)
    {
        var gateway = _gateway ?? throw NotConnected();
        var added = ImmutableArray.CreateBuilder<string>(rooms.Length);
        foreach (var room in rooms)
        {
            // The own-id room is the socket itself, never a member entry.
            if (room != _id && _rooms.Add(room))
            {
                added.Add(room);
            }
        }

        if (added.Count == 0)
        {
            return Task.CompletedTask;
        }

        var writes = new Task[added.Count + 1];
        for (var i = 0; i < added.Count; i++)
        {
            writes[i] = Room(added[i]).AddAsync(_id, gateway);
        }

        writes[^1] = Copy(gateway, SocketChangeKind.Join, added.ToImmutable());
        return Task.WhenAll(writes);
    }

    public Task LeaveAsync(ImmutableArray<string> rooms)
    {
        var gateway = _gateway ?? throw NotConnected();
        var removed = ImmutableArray.CreateBuilder<string>(rooms.Length);
        foreach (var room in rooms)
        {
            if (_rooms.Remove(room))
            {
                removed.Add(room);
            }
        }

        if (removed.Count == 0)
        {
            return Task.CompletedTask;
        }

        var writes = new Task[removed.Count + 1];
        for (var i = 0; i < removed.Count; i++)
        {
            writes[i] = Room(removed[i]).RemoveAsync(_id);
        }

        writes[^1] = Copy(gateway, SocketChangeKind.Leave, removed.ToImmutable());
        return Task.WhenAll(writes);
    }

    public async Task DisconnectAsync()
    {
        if (_gateway is not { } gateway)
        {
            DeactivateOnIdle();
            return;
        }

        var writes = new Task[_rooms.Count + 1];
        var i = 0;
        foreach (var room in _rooms)
        {
            writes[i++] = Room(room).RemoveAsync(_id);
        }

        writes[^1] = Copy(gateway, SocketChangeKind.Disconnect, []);
        _rooms.Clear();
        _gateway = null;
        DeactivateOnIdle();
        await Task.WhenAll(writes);
    }

    public Task RepublishAsync()
    {
        if (_gateway is not { } gateway)
        {
            return Task.CompletedTask;
        }

        var writes = new Task[_rooms.Count + 1];
        var i = 0;
        foreach (var room in _rooms)
        {
            writes[i++] = Room(room).AddAsync(_id, gateway);
        }

        writes[^1] = Copy(gateway, SocketChangeKind.Join, [.. _rooms]);
        return Task.WhenAll(writes);
    }

    public Task<ImmutableArray<string>> GetRoomsAsync()
    {
        if (_gateway is null)
        {
            return Task.FromResult(ImmutableArray<string>.Empty);
        }

        var rooms = ImmutableArray.CreateBuilder<string>(_rooms.Count + 1);
        rooms.Add(_id);
        rooms.AddRange(_rooms);
        return Task.FromResult(rooms.MoveToImmutable());
    }

    private IRoomGrain Room(string room) => grains.GetGrain<IRoomGrain>(GrainKeys.Of(_namespace, room));

    private Task Copy(SiloAddress gateway, SocketChangeKind kind, ImmutableArray<string> rooms) =>
        copies.WriteAsync(gateway, new SocketChange(_namespace, _id, kind, rooms));

    private InvalidOperationException NotConnected() => new($"Socket {_id} of namespace {_namespace} is not connected.");
}
