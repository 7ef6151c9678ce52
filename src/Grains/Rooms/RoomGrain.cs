using System.Collections.Immutable;
using Orleans.Placement;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Grains.Naming;

namespace OrleansRooms.Grains.Rooms;

/// <summary>
/// Owns the members of one room (key <c>namespace,room</c>) and the silos following its route (<see cref="RoomHalf"/>).
/// Placed with the session that first writes it. Never collected while it has a member; once empty (or only asked
/// about: a broadcast to a room nobody joined) it is collected after two idle minutes, so rooms that are any names cost
/// no memory for long and busy empty rooms do not churn. Each activation starts by rebuilding the room from the
/// sessions of every silo, so a room lost with its silo comes back complete.
/// </summary>
[PreferLocalPlacement, CollectionAgeLimit(Minutes = 2), GrainType("orleansrooms-room")]
internal sealed class RoomGrain(RoomServices services) : Grain, IRoomGrain
{
    private RoomHalf _half = null!;
    private string _namespace = "";
    private string _room = "";

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_namespace, _room) = GrainKeys.Split(this.GetPrimaryKeyString());
        _half = new RoomHalf(_namespace, _room, this, services);
        await _half.RebuildAsync();
        KeepWhileMembers();
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _half.Close();
        return Task.CompletedTask;
    }

    public async Task ApplyAsync(ImmutableArray<MemberChange> changes)
    {
        await _half.ApplyAsync(changes);
        KeepWhileMembers();
    }

    public Task<RoomRoute> SubscribeAsync(SiloAddress silo) => Task.FromResult(_half.Subscribe(silo));

    public Task UnsubscribeAsync(SiloAddress silo)
    {
        _half.Unsubscribe(silo);
        return Task.CompletedTask;
    }

    public Task<int> CountAsync() => Task.FromResult(_half.Count);

    public Task<ImmutableArray<string>> GetMembersAsync(int part, int parts) => Task.FromResult(_half.GetMembers(part, parts));

    public Task<ImmutableArray<RoomEvent>> OnGatewayLostAsync(SiloAddress gateway)
    {
        var emptied = _half.OnGatewayLost(gateway);
        KeepWhileMembers();
        return Task.FromResult<ImmutableArray<RoomEvent>>(emptied ? [new RoomEvent(_namespace, _room, null, gateway)] : []);
    }

    // Its members are its state: never collected while it has one, collected like any idle grain once empty.
    private void KeepWhileMembers() => DelayDeactivation(_half.IsEmpty ? TimeSpan.Zero : Timeout.InfiniteTimeSpan);
}
