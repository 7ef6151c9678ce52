using System.Collections.Immutable;
using OrleansRooms.Grains.Membership;
using OrleansRooms.Grains.Routing;

namespace OrleansRooms.Grains.Gateways;

/// <summary>
/// Owns the copy of one gateway's socket halves (namespace, socket, rooms), away from the gateway. Never collected:
/// it lives as long as its gateway, and is emptied and deactivated by <see cref="ReleaseAsync"/> once the gateway died.
/// Lost with its own silo, it is rebuilt by the gateway's re-publish. Placed on its gateway's silo because that silo was
/// alone then, it moves, state and all, as soon as another silo joins: a copy that dies with its gateway is no copy.
/// </summary>
[AwayFromGatewayPlacement, KeepAlive, GrainType("orleansrooms-gateway-sockets")]
internal sealed class GatewaySocketsGrain(IGrainFactory grains, GatewayDirectory directory, IClusterMembershipService membership)
    : Grain, IGatewaySocketsGrain, IGrainMigrationParticipant
{
    private const string StateKey = "sockets";

    // Rooms released concurrently at most: a dead gateway may have had members in thousands of rooms.
    private const int ReleaseConcurrency = 256;

    private readonly Dictionary<string, Dictionary<string, HashSet<string>>> _namespaces = new(StringComparer.Ordinal);
    private SiloAddress _gateway = null!;
    private bool _onGateway;
    private MembershipVersion? _checkedMembership;
    private bool _released;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _gateway = SiloAddress.FromParsableString(this.GetPrimaryKeyString());
        _onGateway = _gateway.Equals(GrainContext.Address.SiloAddress);
        return Task.CompletedTask;
    }

    public void OnDehydrate(IDehydrationContext dehydrationContext) => dehydrationContext.TryAddValue(StateKey, _namespaces);

    public void OnRehydrate(IRehydrationContext rehydrationContext)
    {
        if (rehydrationContext.TryGetValue<Dictionary<string, Dictionary<string, HashSet<string>>>>(StateKey, out var namespaces))
        {
            foreach (var (ns, sockets) in namespaces)
            {
                _namespaces[ns] = sockets;
            }
        }
    }

    public Task ApplyAsync(ImmutableArray<SocketChange> changes)
    {
        if (_released)
        {
            return Task.CompletedTask;
        }

        MoveAwayFromGateway();
        foreach (var change in changes)
        {
            switch (change.Kind)
            {
                case SocketChangeKind.Join:
                    Join(change);
                    break;
                case SocketChangeKind.Leave:
                    if (_namespaces.TryGetValue(change.Namespace, out var sockets) && sockets.TryGetValue(change.SocketId, out var recorded))
                    {
                        recorded.ExceptWith(change.Rooms);
                    }

                    break;
                default:
                    if (_namespaces.TryGetValue(change.Namespace, out var left) && left.Remove(change.SocketId) && left.Count == 0)
                    {
                        _namespaces.Remove(change.Namespace);
                    }

                    break;
            }
        }

        return Task.CompletedTask;
    }

    public Task<ImmutableArray<string>> GetSocketsAsync(string ns) =>
        Task.FromResult(_namespaces.TryGetValue(ns, out var sockets) ? sockets.Keys.ToImmutableArray() : []);

    public Task<ImmutableArray<string>> GetRoomNamesAsync(string ns)
    {
        if (!_namespaces.TryGetValue(ns, out var sockets))
        {
            return Task.FromResult(ImmutableArray<string>.Empty);
        }

        var rooms = new HashSet<string>(sockets.Keys, StringComparer.Ordinal);
        foreach (var joined in sockets.Values)
        {
            rooms.UnionWith(joined);
        }

        return Task.FromResult(rooms.ToImmutableArray());
    }

    private void Join(SocketChange change)
    {
        if (!_namespaces.TryGetValue(change.Namespace, out var sockets))
        {
            _namespaces[change.Namespace] = sockets = new(StringComparer.Ordinal);
        }

        if (!sockets.TryGetValue(change.SocketId, out var recorded))
        {
            sockets[change.SocketId] = recorded = new(StringComparer.Ordinal);
        }

        recorded.UnionWith(change.Rooms);
    }

    private void MoveAwayFromGateway()
    {
        // Looked at again only when membership changed: a lone gateway writes its copy on every join.
        if (!_onGateway || membership.CurrentSnapshot.Version == _checkedMembership)
        {
            return;
        }

        _checkedMembership = membership.CurrentSnapshot.Version;

        foreach (var member in membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status == SiloStatus.Active && !member.SiloAddress.Equals(_gateway))
            {
                // The placement director picks another silo; the state travels with the activation.
                _onGateway = false;
                MigrateOnIdle();
                return;
            }
        }
    }

    public async Task<GatewayRelease> ReleaseAsync()
    {
        if (_released)
        {
            return GatewayRelease.Empty;
        }

        _released = true;
        var changes = ImmutableArray.CreateBuilder<RoomChange>();
        foreach (var (ns, sockets) in _namespaces)
        {
            await ReleaseNamespaceAsync(ns, sockets, changes);
        }

        _namespaces.Clear();
        DeactivateOnIdle();
        return new GatewayRelease { Changes = changes.ToImmutable() };
    }

    private async Task ReleaseNamespaceAsync(string ns, Dictionary<string, HashSet<string>> sockets, ImmutableArray<RoomChange>.Builder changes)
    {
        // Take the gateway's members out of every room grain it had members in.
        var explicitRooms = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rooms in sockets.Values)
        {
            explicitRooms.UnionWith(rooms);
        }

        var removals = new List<Task>(Math.Min(explicitRooms.Count, ReleaseConcurrency));
        foreach (var room in explicitRooms)
        {
            removals.Add(grains.GetGrain<IRoomGrain>(GrainKeys.Of(ns, room)).RemoveGatewayAsync(_gateway));
            if (removals.Count == ReleaseConcurrency)
            {
                await Task.WhenAll(removals);
                removals.Clear();
            }
        }

        await Task.WhenAll(removals);

        // Whether each room the released sockets were in (their own-id rooms too) still has a member anywhere: the
        // surviving gateways' own tables say, not the room grains, which may have died with the gateway's silo and not
        // be rebuilt yet.
        var candidates = explicitRooms.Union(sockets.Keys, StringComparer.Ordinal).ToImmutableArray();
        var stillHosted = await HostedAnywhereAsync(ns, candidates);

        // How many released members each room has (a socket is a member of its own-id room), so a room is reported
        // deleted right after the last of them left it.
        var remaining = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (socketId, rooms) in sockets)
        {
            remaining[socketId] = remaining.GetValueOrDefault(socketId) + 1;
            foreach (var room in rooms)
            {
                remaining[room] = remaining.GetValueOrDefault(room) + 1;
            }
        }

        foreach (var (socketId, rooms) in sockets)
        {
            Leave(socketId, socketId);
            foreach (var room in rooms)
            {
                Leave(room, socketId);
            }
        }

        void Leave(string room, string socketId)
        {
            changes.Add(new RoomChange(ns, room, socketId));
            var left = remaining[room] - 1;
            remaining[room] = left;
            if (left == 0 && !stillHosted.Contains(room))
            {
                changes.Add(new RoomChange(ns, room, null));
            }
        }
    }

    private async Task<HashSet<string>> HostedAnywhereAsync(string ns, ImmutableArray<string> rooms)
    {
        var hosted = new HashSet<string>(StringComparer.Ordinal);
        var gateways = directory.Gateways;
        var answers = new List<Task<ImmutableArray<string>>>(gateways.Length);
        foreach (var gateway in gateways)
        {
            if (!gateway.Equals(_gateway))
            {
                answers.Add(grains.GetGrain<IGatewayGrain>(GrainKeys.Of(gateway)).GetHostedRoomsAsync(ns, rooms));
            }
        }

        foreach (var answer in answers)
        {
            try
            {
                hosted.UnionWith(await answer);
            }
            catch (Exception ex) when (ex is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException)
            {
                // A gateway that cannot answer is leaving too: its members are about to be released in turn.
            }
        }

        return hosted;
    }
}
