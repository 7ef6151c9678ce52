using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Orleans.Placement;
using OrleansRooms.Grains.Gateways;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Grains.Naming;
using OrleansRooms.Grains.Recovery;
using OrleansRooms.Grains.Rooms;
using OrleansRooms.Grains.Silos;

namespace OrleansRooms.Grains.Sessions;

/// <summary>
/// Owns a socket's session (<see cref="ISocketGrain"/>): its rooms, its gateway, and the room named by its id. Changes
/// reach the room grains through this silo's <see cref="RoomWriter"/>, each retried within the bound; a change that
/// cannot be written is undone (the caller gets <see cref="RoomMembershipException"/>), and what the undo could not
/// write either is written again every second until it is. Never collected while connected or while its own room has
/// other members; asked about an id that is no connected socket, it is collected after two idle minutes.
/// <para>
/// With connection state recovery, a socket whose connection dropped is suspended rather than ended: the session leaves
/// its rooms (as Socket.IO's adapter does), keeps them, the socket's data and the broadcasts that reach it (this silo's
/// <see cref="NamespaceLog"/>), and hands them to the gateway its client comes back through, once, within the window.
/// </para>
/// </summary>
[SessionPlacement, CollectionAgeLimit(Minutes = 2), GrainType(ISocketGrain.GrainTypeName)]
internal sealed partial class SocketGrain(
    RoomServices roomServices,
    RoomWriter writer,
    SessionRegistry registry,
    ClusterRetry retry,
    IGrainFactory grains,
    RecoveryLogs recovery,
    RecoveryMetrics metrics,
    GatewayServices gateways,
    ILogger<SocketGrain> logger)
    : Grain, ISocketGrain, IGrainMigrationParticipant
{
    private static readonly TimeSpan RepairPeriod = TimeSpan.FromSeconds(1);
    private const string GatewayKey = "gateway";
    private const string RoomsKey = "rooms";
    private const string DirtyKey = "dirty";
    private const string LeftOwnRoomKey = "left-own-room";
    private const string SecretKey = "secret";
    private const string DataKey = "data";

    private RoomSet _rooms;
    private RoomSet _dirty;
    private SiloAddress? _gateway;
    private bool _leftOwnRoom;
    private RoomHalf? _ownRoom;
    private Task? _ownRoomReady;
    private IGrainTimer? _repair;

    // Recovery: the secret of the private session id (null: not recoverable), the socket's data, and while suspended its
    // rooms, the broadcasts it misses, the end of its window and the gateway a recovery was granted to.
    private byte[]? _secret;
    private ReadOnlyMemory<byte> _data;
    private ImmutableArray<string> _savedRooms = [];
    private MissedPackets? _missed;
    private IGrainTimer? _expiry;
    private SiloAddress? _recoveringBy;

    /// <summary>The namespace (the registry's shared instance).</summary>
    public string Namespace { get; private set; } = "";

    /// <summary>The socket id.</summary>
    public string Id { get; private set; } = "";

    /// <summary>The gateway the registry lists this session under; written by <see cref="SessionRegistry"/> only.</summary>
    internal SiloAddress? RegisteredGateway { get; set; }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var (ns, id) = GrainKeys.Split(this.GetPrimaryKeyString());
        Namespace = registry.Namespace(ns);
        Id = id;
        if (_gateway is { } gateway)
        {
            // Moved here from another silo (it was leaving, or this session had been placed with its gateway).
            if (!registry.Connect(this, gateway))
            {
                _gateway = null;
            }
            else
            {
                // The gateway restores a session after the death of the silo it knows it on: this one, from now on.
                _ = TellMovedAsync(gateway);
            }

            foreach (var room in _rooms.ToArray())
            {
                _rooms.Remove(room);
                _rooms.Add(registry.Join(Namespace, room, this));
                // A room rebuilt while this session was between silos missed it: write each room again.
                _dirty.Add(room);
            }

            DelayDeactivation(Timeout.InfiniteTimeSpan);
            _repair = this.RegisterGrainTimer(RepairAsync, new GrainTimerCreationOptions(TimeSpan.Zero, RepairPeriod));
        }

        return Task.CompletedTask;
    }

    private async Task TellMovedAsync(SiloAddress gateway)
    {
        var here = GrainContext.Address.SiloAddress!;
        try
        {
            await retry.RunAsync(static s => s.gateways.On(s.gateway).SessionMovedAsync(s.Namespace, s.Id, s.here), (gateways, gateway, Namespace, Id, here), gateway);
        }
        catch (Exception ex)
        {
            // A gateway declared dead has no socket to restore; one that did not answer within the bound restores this
            // session only once the socket changes.
            Log.MoveNotTold(logger, Id, gateway, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "The gateway {Gateway} of socket {SocketId} could not be told that its session moved; it restores the session only when the socket changes.")]
        public static partial void MoveNotTold(ILogger logger, string socketId, SiloAddress gateway, Exception exception);
    }

    public void OnDehydrate(IDehydrationContext dehydrationContext)
    {
        dehydrationContext.TryAddValue(GatewayKey, _gateway);
        dehydrationContext.TryAddValue(RoomsKey, _rooms.ToArray());
        dehydrationContext.TryAddValue(DirtyKey, _dirty.ToArray());
        dehydrationContext.TryAddValue(LeftOwnRoomKey, _leftOwnRoom);
        if (_secret is not null)
        {
            dehydrationContext.TryAddValue(SecretKey, _secret);
            dehydrationContext.TryAddValue(DataKey, _data.ToArray());
        }
    }

    public void OnRehydrate(IRehydrationContext rehydrationContext)
    {
        if (rehydrationContext.TryGetValue<SiloAddress>(GatewayKey, out var gateway))
        {
            _gateway = gateway;
        }

        if (rehydrationContext.TryGetValue<string[]>(RoomsKey, out var rooms))
        {
            foreach (var room in rooms)
            {
                _rooms.Add(room);
            }
        }

        if (rehydrationContext.TryGetValue<byte[]>(SecretKey, out var secret))
        {
            _secret = secret;
        }

        if (rehydrationContext.TryGetValue<byte[]>(DataKey, out var data))
        {
            _data = data;
        }

        if (rehydrationContext.TryGetValue<bool>(LeftOwnRoomKey, out var leftOwnRoom))
        {
            _leftOwnRoom = leftOwnRoom;
        }

        if (rehydrationContext.TryGetValue<string[]>(DirtyKey, out var dirty))
        {
            foreach (var room in dirty)
            {
                _dirty.Add(room);
            }
        }
    }

    /// <summary>Moves this session to <paramref name="silo"/> once it is idle (<see cref="Silos.ActivationMover"/>).</summary>
    internal void MoveTo(SiloAddress silo) => GrainContext.Migrate(new() { [Orleans.Runtime.Placement.IPlacementDirector.PlacementHintKey] = silo });

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Lost with a silo that stops, the session is restored by its gateway, as after a crash.
        foreach (var room in _rooms.ToArray())
        {
            registry.Leave(Namespace, room, this);
        }

        registry.Disconnect(this);
        _ownRoom?.Close();
        EndSuspension();
        return Task.CompletedTask;
    }

    public Task<SiloAddress> ConnectAsync(SiloAddress gateway) => ConnectAsync(gateway, default);

    public async Task<SiloAddress> ConnectAsync(SiloAddress gateway, ReadOnlyMemory<byte> secret)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        if (_gateway is { } current && !current.Equals(gateway))
        {
            throw new InvalidOperationException($"Socket {Id} of namespace {Namespace} is already connected through {current}.");
        }

        if (!secret.IsEmpty)
        {
            _secret = secret.ToArray();
        }

        if (!registry.Connect(this, gateway))
        {
            throw new ClusterChangingException($"Gateway {gateway} has left the cluster.");
        }

        _gateway = gateway;
        _leftOwnRoom = false;
        DelayDeactivation(Timeout.InfiniteTimeSpan);
        // A new id: no silo knows it yet, so there is nothing to rebuild its own room from.
        _ownRoomReady ??= Task.CompletedTask;
        if (_ownRoom is not null)
        {
            await _ownRoom.SetImplicitGatewayAsync(gateway);
        }

        return GrainContext.Address.SiloAddress!;
    }

    public Task<SiloAddress> RestoreAsync(SiloAddress gateway, ImmutableArray<string> rooms, ImmutableArray<string> reconcile) =>
        RestoreAsync(gateway, rooms, reconcile, default);

    public async Task<SiloAddress> RestoreAsync(SiloAddress gateway, ImmutableArray<string> rooms, ImmutableArray<string> reconcile, ReadOnlyMemory<byte> secret)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        if (_gateway is { } current && !current.Equals(gateway))
        {
            throw new InvalidOperationException($"Socket {Id} of namespace {Namespace} is connected through {current}.");
        }

        if (!secret.IsEmpty)
        {
            _secret = secret.ToArray();
        }

        await OwnRoomAsync();
        if (!registry.Connect(this, gateway))
        {
            throw new ClusterChangingException($"Gateway {gateway} has left the cluster.");
        }

        _gateway = gateway;
        // The gateway's table says whether the socket is still in its own room (a socket may leave it).
        _leftOwnRoom = !rooms.Contains(Id);
        DelayDeactivation(Timeout.InfiniteTimeSpan);
        await _ownRoom!.SetImplicitGatewayAsync(OwnRoomGateway);

        var toWrite = new HashSet<string>(StringComparer.Ordinal);
        foreach (var room in rooms)
        {
            if (room != Id && !_rooms.Contains(room))
            {
                _rooms.Add(registry.Join(Namespace, room, this));
            }
        }

        toWrite.UnionWith(_rooms.ToArray());
        foreach (var room in reconcile)
        {
            if (room != Id)
            {
                toWrite.Add(room);
            }
        }

        await WriteAsync([.. toWrite], undoOnFailure: false);
        return GrainContext.Address.SiloAddress!;
    }

    public async Task<SessionAnswer> JoinAsync(SiloAddress gateway, ImmutableArray<string> rooms, ImmutableArray<string> reconcile)
    {
        if (Check(gateway) is { } refused)
        {
            return refused;
        }

        await ReconcileAsync(reconcile);
        if (_leftOwnRoom && rooms.Contains(Id))
        {
            await SetLeftOwnRoomAsync(false);
        }

        var added = new List<string>(rooms.Length);
        foreach (var room in rooms)
        {
            // The own-id room is the session itself, never a member entry.
            if (room != Id && !_rooms.Contains(room))
            {
                var shared = registry.Join(Namespace, room, this);
                _rooms.Add(shared);
                added.Add(shared);
            }
        }

        if (added.Count > 0)
        {
            await WriteAsync(added, undoOnFailure: true);
        }

        return SessionAnswer.Done;
    }

    public async Task<SessionAnswer> LeaveAsync(SiloAddress gateway, ImmutableArray<string> rooms, ImmutableArray<string> reconcile)
    {
        if (Check(gateway) is { } refused)
        {
            return refused;
        }

        await ReconcileAsync(reconcile);
        if (!_leftOwnRoom && rooms.Contains(Id))
        {
            // Socket.IO lets a socket leave the room named by its id: messages to its id no longer reach it.
            await SetLeftOwnRoomAsync(true);
        }

        var removed = new List<string>(rooms.Length);
        foreach (var room in rooms)
        {
            if (_rooms.Remove(room))
            {
                registry.Leave(Namespace, room, this);
                removed.Add(room);
            }
        }

        if (removed.Count > 0)
        {
            await WriteAsync(removed, undoOnFailure: true);
        }

        return SessionAnswer.Done;
    }

    public async Task DisconnectAsync(SiloAddress gateway, ImmutableArray<string> rooms)
    {
        if (_gateway is { } current && !current.Equals(gateway))
        {
            // The socket went on through another gateway: what the old one knew is not this session's any more.
            return;
        }

        var toLeave = await LeaveEveryRoomAsync(rooms);
        await WriteAsync(toLeave, undoOnFailure: false);
        _secret = null;
        DeactivateWhenDone();
    }

    public Task SaveDataAsync(SiloAddress gateway, ReadOnlyMemory<byte> data)
    {
        if (_gateway is { } current && current.Equals(gateway))
        {
            _data = data;
        }

        return Task.CompletedTask;
    }

    public async Task SuspendAsync(SiloAddress gateway, ImmutableArray<string> rooms, ReadOnlyMemory<byte> data)
    {
        if (_gateway is { } current && !current.Equals(gateway))
        {
            return;
        }

        if (_secret is null || recovery.Options is null)
        {
            await DisconnectAsync(gateway, rooms);
            return;
        }

        _data = data;
        var saved = SavedRooms(rooms);
        var toLeave = await LeaveEveryRoomAsync(saved);
        Suspend(saved);
        try
        {
            await WriteAsync(toLeave, undoOnFailure: false);
        }
        catch (RoomMembershipException)
        {
            // The rooms that could not be written are written again every second until they are (the repair timer):
            // the session itself is suspended either way.
        }
    }

    public Task<RecoveryGrant> BeginRecoveryAsync(SiloAddress gateway, ReadOnlyMemory<byte> secret)
    {
        if (_secret is null || !System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(_secret, secret.Span))
        {
            return Task.FromResult(RecoveryGrant.Unknown);
        }

        if (_gateway is { } connected)
        {
            return Task.FromResult(RecoveryGrant.Connected(connected));
        }

        if (_recoveringBy is { } other && !other.Equals(gateway))
        {
            return Task.FromResult(RecoveryGrant.Connected(null));
        }

        if (_missed is null)
        {
            return Task.FromResult(RecoveryGrant.Unknown);
        }

        _recoveringBy = gateway;
        return Task.FromResult(new RecoveryGrant(RecoveryAnswer.Granted, _savedRooms, _data));
    }

    public async Task<RecoveryReplay?> ResumeAsync(SiloAddress gateway, RecoveryVector from, RecoveryVector until, TimeSpan wait)
    {
        if (_missed is null || _recoveringBy is not { } granted || !granted.Equals(gateway) || recovery.Options is null)
        {
            return null;
        }

        var log = recovery.For(Namespace);
        if (!await log.WaitForAsync(until.Max(from), wait < retry.Timeout ? wait : retry.Timeout))
        {
            EndRecoverable();
            return null;
        }

        var replay = log.Replay(_missed, from, until);
        if (replay is null || !registry.Connect(this, gateway))
        {
            EndRecoverable();
            return null;
        }

        var saved = _savedRooms;
        EndSuspension();
        _gateway = gateway;
        _leftOwnRoom = !saved.Contains(Id);
        await OwnRoomAsync();
        await _ownRoom!.SetImplicitGatewayAsync(OwnRoomGateway);
        var added = new List<string>(saved.Length);
        foreach (var room in saved)
        {
            if (room != Id && !_rooms.Contains(room))
            {
                var shared = registry.Join(Namespace, room, this);
                _rooms.Add(shared);
                added.Add(shared);
            }
        }

        try
        {
            await WriteAsync(added, undoOnFailure: true);
        }
        catch (RoomMembershipException)
        {
            // Not in its rooms: the recovery fails as a whole, and the session ends.
            await DisconnectAsync(gateway, []);
            return null;
        }

        var messages = ImmutableArray.CreateBuilder<ClusterMessage>(replay.Count);
        foreach (var entry in replay)
        {
            messages.Add(entry.Message);
        }

        return new RecoveryReplay(GrainContext.Address.SiloAddress!, messages.MoveToImmutable());
    }

    public Task ChangeWhileSuspendedAsync(ClusterMessageType type, ImmutableArray<string> rooms)
    {
        if (_missed is not { } missed)
        {
            return Task.CompletedTask;
        }

        if (type == ClusterMessageType.DisconnectSockets)
        {
            EndRecoverable();
            return Task.CompletedTask;
        }

        var saved = new HashSet<string>(_savedRooms, StringComparer.Ordinal);
        if (type == ClusterMessageType.SocketsJoin)
        {
            saved.UnionWith(rooms);
        }
        else
        {
            saved.ExceptWith(rooms);
        }

        _savedRooms = [.. saved];
        recovery.For(Namespace).ChangeRooms(missed, saved);
        return Task.CompletedTask;
    }

    public Task AbandonRecoveryAsync(SiloAddress gateway)
    {
        if (_recoveringBy is { } granted && granted.Equals(gateway))
        {
            _recoveringBy = null;
        }

        return Task.CompletedTask;
    }

    public Task<ImmutableArray<string>> GetRoomsAsync()
    {
        if (_gateway is null)
        {
            return Task.FromResult(ImmutableArray<string>.Empty);
        }

        var rooms = ImmutableArray.CreateBuilder<string>(_rooms.Count + 1);
        if (!_leftOwnRoom)
        {
            rooms.Add(Id);
        }

        rooms.AddRange(_rooms.ToArray());
        return Task.FromResult(rooms.ToImmutable());
    }

    public async Task ApplyAsync(ImmutableArray<MemberChange> changes)
    {
        await OwnRoomAsync();
        await _ownRoom!.ApplyAsync(changes);
        if (!_ownRoom.IsEmpty)
        {
            DelayDeactivation(Timeout.InfiniteTimeSpan);
        }
        else if (_gateway is null)
        {
            DeactivateWhenDone();
        }
    }

    public async Task<RoomRoute> SubscribeAsync(SiloAddress silo)
    {
        await OwnRoomAsync();
        return _ownRoom!.Subscribe(silo);
    }

    public Task UnsubscribeAsync(SiloAddress silo)
    {
        _ownRoom?.Unsubscribe(silo);
        return Task.CompletedTask;
    }

    public async Task<int> CountAsync()
    {
        await OwnRoomAsync();
        return _ownRoom!.Count + (OwnRoomGateway is null ? 0 : 1);
    }

    public async Task<ImmutableArray<string>> GetMembersAsync(int part, int parts)
    {
        await OwnRoomAsync();
        var members = _ownRoom!.GetMembers(part, parts);
        return OwnRoomGateway is not null && part == 0 ? members.Insert(0, Id) : members;
    }

    public async Task<MemberPage> GetMembersAfterAsync(string? after, int limit)
    {
        await OwnRoomAsync();
        return _ownRoom!.GetMembersAfter(after, limit, OwnRoomGateway is null ? null : Id);
    }

    public async Task<ImmutableArray<RoomEvent>> OnGatewayLostAsync(SiloAddress gateway)
    {
        var events = ImmutableArray.CreateBuilder<RoomEvent>();
        if (_gateway is { } current && current.Equals(gateway))
        {
            // The socket is gone with its gateway. Its rooms drop that gateway's members themselves: nothing to write.
            events.Add(new RoomEvent(Namespace, Id, Id, gateway));
            foreach (var room in _rooms.ToArray())
            {
                registry.Leave(Namespace, room, this);
                events.Add(new RoomEvent(Namespace, room, Id, gateway));
            }

            var saved = SavedRooms([]);
            _rooms.Clear();
            _dirty.Clear();
            _gateway = null;
            registry.Disconnect(this);
            if (_ownRoom is not null)
            {
                await _ownRoom.SetImplicitGatewayAsync(null);
            }

            if (_secret is not null && recovery.Options is not null)
            {
                // Its client may come back through another gateway.
                Suspend(saved);
            }
        }
        else if (_recoveringBy is { } recovering && recovering.Equals(gateway))
        {
            _recoveringBy = null;
        }

        if (_ownRoom?.OnGatewayLost(gateway) == true || (_gateway is null && events.Count > 0 && (_ownRoom is null || _ownRoom.IsEmpty)))
        {
            events.Add(new RoomEvent(Namespace, Id, null, gateway));
        }

        DeactivateWhenDone();
        return events.ToImmutable();
    }

    // The session is in no room and connected through no gateway any more; returns the rooms whose grains must be told:
    // its own, those whose last write may have failed, and those its gateway knew it in (in case the session was lost).
    private async Task<List<string>> LeaveEveryRoomAsync(ImmutableArray<string> known)
    {
        var toLeave = new HashSet<string>(_rooms.ToArray(), StringComparer.Ordinal);
        toLeave.UnionWith(_dirty.ToArray());
        toLeave.UnionWith(known);
        toLeave.Remove(Id);
        foreach (var room in _rooms.ToArray())
        {
            registry.Leave(Namespace, room, this);
        }

        _rooms.Clear();
        _gateway = null;
        registry.Disconnect(this);
        if (_ownRoom is not null)
        {
            await _ownRoom.SetImplicitGatewayAsync(null);
        }

        return [.. toLeave];
    }

    // The rooms a suspended session keeps: its own room unless it left it, its rooms, and what the gateway knew.
    private ImmutableArray<string> SavedRooms(ImmutableArray<string> known)
    {
        var saved = new HashSet<string>(_rooms.ToArray(), StringComparer.Ordinal);
        foreach (var room in known.IsDefault ? [] : known)
        {
            saved.Add(room);
        }

        if (_leftOwnRoom)
        {
            saved.Remove(Id);
        }
        else
        {
            saved.Add(Id);
        }

        return [.. saved];
    }

    private void Suspend(ImmutableArray<string> rooms)
    {
        var options = recovery.Options!;
        EndSuspension();
        _savedRooms = rooms;
        _missed = recovery.For(Namespace).Suspend(Id, rooms);
        _expiry = this.RegisterGrainTimer(ExpireAsync, new GrainTimerCreationOptions(options.MaxDisconnectionDuration, Timeout.InfiniteTimeSpan));
        DelayDeactivation(Timeout.InfiniteTimeSpan);
        metrics.Suspended();
    }

    private Task ExpireAsync(CancellationToken cancellationToken)
    {
        if (_missed is null)
        {
            return Task.CompletedTask;
        }

        if (_recoveringBy is not null)
        {
            // A recovery under way finishes or fails within the retry bound; the window ends after it if it fails.
            _expiry?.Dispose();
            _expiry = this.RegisterGrainTimer(ExpireAsync, new GrainTimerCreationOptions(retry.Timeout, Timeout.InfiniteTimeSpan));
            return Task.CompletedTask;
        }

        metrics.Expired();
        EndRecoverable();
        return Task.CompletedTask;
    }

    // The session cannot be recovered: it has left its rooms already, so nothing is left but to go.
    private void EndRecoverable()
    {
        EndSuspension();
        _secret = null;
        _savedRooms = [];
        _data = default;
        DeactivateWhenDone();
    }

    private void EndSuspension()
    {
        _expiry?.Dispose();
        _expiry = null;
        _recoveringBy = null;
        if (_missed is { } missed)
        {
            _missed = null;
            recovery.Find(Namespace)?.Release(missed);
        }
    }

    // The socket itself is a member of its own room while connected, unless it left that room.
    private SiloAddress? OwnRoomGateway => _leftOwnRoom ? null : _gateway;

    private async Task SetLeftOwnRoomAsync(bool left)
    {
        _leftOwnRoom = left;
        if (_ownRoom is not null)
        {
            await _ownRoom.SetImplicitGatewayAsync(OwnRoomGateway);
        }
    }

    private SessionAnswer? Check(SiloAddress gateway) => _gateway switch
    {
        null => SessionAnswer.NotConnected,
        { } current when !current.Equals(gateway) => SessionAnswer.OtherGateway,
        _ => null,
    };

    // The room named by this socket's id, rebuilt from the silos once per activation unless the socket is new here.
    private Task OwnRoomAsync()
    {
        if (_ownRoom is null)
        {
            _ownRoom = new RoomHalf(Namespace, Id, this, roomServices, OwnRoomGateway);
        }

        return _ownRoomReady ??= _ownRoom.RebuildAsync();
    }

    private async Task ReconcileAsync(ImmutableArray<string> rooms)
    {
        if (!rooms.IsDefaultOrEmpty)
        {
            var list = new List<string>(rooms.Length);
            foreach (var room in rooms)
            {
                if (room != Id)
                {
                    list.Add(room);
                }
            }

            await WriteAsync(list, undoOnFailure: false);
        }
    }

    /// <summary>
    /// Writes the session's state of each of <paramref name="rooms"/> to the room's grain (a member while connected and
    /// in the room, else not). On failure, with <paramref name="undoOnFailure"/> the change is undone first; either way
    /// the rooms whose grains may disagree are repaired in the background, and the caller gets the failure.
    /// </summary>
    private async Task WriteAsync(List<string> rooms, bool undoOnFailure)
    {
        if (rooms.Count == 0)
        {
            return;
        }

        var writes = new Task[rooms.Count];
        for (var i = 0; i < writes.Length; i++)
        {
            writes[i] = retry.RunAsync(static s => s.Writer.WriteAsync(s.Room, s.Change), (Writer: writer, Room: RoomGrains.Of(grains, Namespace, rooms[i]), Change: Desired(rooms[i])));
        }

        try
        {
            await Task.WhenAll(writes);
            foreach (var room in rooms)
            {
                _dirty.Remove(room);
            }
        }
        catch (Exception ex)
        {
            if (undoOnFailure)
            {
                Undo(rooms);
            }

            // Rooms that took the change get it undone now; what cannot be written now is written again every second.
            foreach (var room in rooms)
            {
                _dirty.Add(room);
            }

            await RepairAsync(CancellationToken.None);
            if (_dirty.Count > 0)
            {
                _repair ??= this.RegisterGrainTimer(RepairAsync, new GrainTimerCreationOptions(RepairPeriod, RepairPeriod));
            }

            throw new RoomMembershipException($"The rooms of socket {Id} could not be recorded in the cluster.", ex);
        }
    }

    // A failed join is a leave again, a failed leave a join again; the room grains are then written to match.
    private void Undo(List<string> rooms)
    {
        foreach (var room in rooms)
        {
            if (_rooms.Remove(room))
            {
                registry.Leave(Namespace, room, this);
            }
            else
            {
                _rooms.Add(registry.Join(Namespace, room, this));
            }
        }
    }

    private MemberChange Desired(string room) => new(Id, _gateway is not null && _rooms.Contains(room) ? _gateway : null);

    private async Task RepairAsync(CancellationToken cancellationToken)
    {
        var rooms = _dirty.ToArray();
        var writes = new Task[rooms.Length];
        for (var i = 0; i < rooms.Length; i++)
        {
            writes[i] = writer.WriteAsync(RoomGrains.Of(grains, Namespace, rooms[i]), Desired(rooms[i]));
        }

        for (var i = 0; i < rooms.Length; i++)
        {
            try
            {
                await writes[i];
                _dirty.Remove(rooms[i]);
            }
            catch (Exception ex) when (ClusterRetry.IsTransient(ex))
            {
                // Again at the next tick.
            }
        }

        if (_dirty.Count == 0)
        {
            _repair?.Dispose();
            _repair = null;
            DeactivateWhenDone();
        }
        else
        {
            _repair ??= this.RegisterGrainTimer(RepairAsync, new GrainTimerCreationOptions(RepairPeriod, RepairPeriod));
        }
    }

    private void DeactivateWhenDone()
    {
        if (_gateway is null && _missed is null && _dirty.Count == 0 && (_ownRoom is null || _ownRoom.IsEmpty))
        {
            DeactivateOnIdle();
        }
    }
}
