using System.Collections.Immutable;
using OrleansRooms.Grains.Membership;

namespace OrleansRooms.Grains.Gateways;

/// <summary>
/// Owns the copy of one gateway's socket halves (namespace, socket, rooms), away from the gateway. Never collected:
/// it lives as long as its gateway, and is emptied and deactivated by <see cref="ReleaseAsync"/> once the gateway died.
/// Lost with its own silo, it is rebuilt by the gateway's re-publish.
/// </summary>
[AwayFromGatewayPlacement, KeepAlive, GrainType("orleansrooms-gateway-sockets")]
internal sealed class GatewaySocketsGrain(IGrainFactory grains) : Grain, IGatewaySocketsGrain
{
    // Rooms released concurrently at most: a dead gateway may have had members in thousands of rooms.
    private const int ReleaseConcurrency = 256;

    private readonly Dictionary<string, Dictionary<string, HashSet<string>>> _namespaces = new(StringComparer.Ordinal);
    private SiloAddress _gateway = null!;
    private bool _released;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _gateway = SiloAddress.FromParsableString(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public Task JoinAsync(string ns, string socketId, ImmutableArray<string> rooms)
    {
        if (_released)
        {
            return Task.CompletedTask;
        }

        if (!_namespaces.TryGetValue(ns, out var sockets))
        {
            _namespaces[ns] = sockets = new(StringComparer.Ordinal);
        }

        if (!sockets.TryGetValue(socketId, out var recorded))
        {
            sockets[socketId] = recorded = new(StringComparer.Ordinal);
        }

        recorded.UnionWith(rooms);
        return Task.CompletedTask;
    }

    public Task LeaveAsync(string ns, string socketId, ImmutableArray<string> rooms)
    {
        if (_namespaces.TryGetValue(ns, out var sockets) && sockets.TryGetValue(socketId, out var recorded))
        {
            recorded.ExceptWith(rooms);
        }

        return Task.CompletedTask;
    }

    public Task DisconnectAsync(string ns, string socketId)
    {
        if (_namespaces.TryGetValue(ns, out var sockets) && sockets.Remove(socketId) && sockets.Count == 0)
        {
            _namespaces.Remove(ns);
        }

        return Task.CompletedTask;
    }

    public Task<ImmutableArray<string>> GetSocketsAsync(string ns) =>
        Task.FromResult(_namespaces.TryGetValue(ns, out var sockets) ? sockets.Keys.ToImmutableArray() : []);

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
        // The rooms the gateway had members in (explicitly joined): take its members out of each room grain, and learn
        // whether the room is now empty cluster-wide.
        var explicitRooms = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rooms in sockets.Values)
        {
            explicitRooms.UnionWith(rooms);
        }

        var emptied = new Dictionary<string, bool>(StringComparer.Ordinal);
        var pending = new List<(string Room, Task<bool> Emptied)>(Math.Min(explicitRooms.Count, ReleaseConcurrency));
        foreach (var room in explicitRooms)
        {
            pending.Add((room, grains.GetGrain<IRoomGrain>(GrainKeys.Of(ns, room)).RemoveGatewayAsync(_gateway)));
            if (pending.Count == ReleaseConcurrency)
            {
                await CollectAsync(pending, emptied);
            }
        }

        await CollectAsync(pending, emptied);

        // An own-id room no one else joined explicitly is not in the namespace's index: it goes with its socket.
        var listed = (await grains.GetGrain<INamespaceGrain>(ns).GetRoomsAsync()).ToHashSet(StringComparer.Ordinal);

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
            var isEmpty = emptied.TryGetValue(room, out var e) ? e : !listed.Contains(room);
            if (left == 0 && isEmpty)
            {
                changes.Add(new RoomChange(ns, room, null));
            }
        }
    }

    private static async Task CollectAsync(List<(string Room, Task<bool> Emptied)> pending, Dictionary<string, bool> emptied)
    {
        foreach (var (room, task) in pending)
        {
            emptied[room] = await task;
        }

        pending.Clear();
    }
}
