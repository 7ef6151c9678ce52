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
[PreferLocalPlacement, CollectionAgeLimit(Minutes = 2), GrainType(IRoomGrain.GrainTypeName)]
internal sealed class RoomGrain(RoomServices services) : Grain, IRoomGrain, IGrainMigrationParticipant
{
    private const string StateKey = "room";

    private RoomHalf _half = null!;
    private RoomState? _moved;
    private string _namespace = "";
    private string _room = "";

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_namespace, _room) = GrainKeys.Split(this.GetPrimaryKeyString());
        _half = new RoomHalf(_namespace, _room, this, services);
        if (_moved is { } state)
        {
            // Moved from another silo with its state: nothing was lost, nothing to rebuild.
            _half.Restore(state);
            _moved = null;
        }
        else
        {
            await _half.RebuildAsync();
        }

        KeepWhileMembers();
    }

    public void OnDehydrate(IDehydrationContext dehydrationContext) => dehydrationContext.TryAddValue(StateKey, _half.Save());

    public void OnRehydrate(IRehydrationContext rehydrationContext)
    {
        if (rehydrationContext.TryGetValue<RoomState>(StateKey, out var state))
        {
            _moved = state;
        }
    }

    /// <summary>Moves this room to <paramref name="silo"/> once it is idle (<see cref="Silos.ActivationMover"/>).</summary>
    internal void MoveTo(SiloAddress silo) => GrainContext.Migrate(new() { [Orleans.Runtime.Placement.IPlacementDirector.PlacementHintKey] = silo });

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

    public Task<MemberPage> GetMembersAfterAsync(string? after, int limit) => Task.FromResult(_half.GetMembersAfter(after, limit));

    public Task<ImmutableArray<RoomEvent>> OnGatewayLostAsync(SiloAddress gateway)
    {
        var emptied = _half.OnGatewayLost(gateway);
        KeepWhileMembers();
        return Task.FromResult<ImmutableArray<RoomEvent>>(emptied ? [new RoomEvent(_namespace, _room, null, gateway)] : []);
    }

    // Its members are its state: never collected while it has one, collected like any idle grain once empty.
    private void KeepWhileMembers() => DelayDeactivation(_half.IsEmpty ? TimeSpan.Zero : Timeout.InfiniteTimeSpan);
}
