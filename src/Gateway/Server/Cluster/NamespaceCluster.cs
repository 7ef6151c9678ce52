using System.Collections.Immutable;
using OrleansRooms.Grains.Gateways;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Grains.Rooms;
using OrleansRooms.Grains.Sessions;
using OrleansRooms.Grains.Silos;
using OrleansRooms.Hosting;

namespace OrleansRooms.Cluster;

/// <summary>
/// The cluster side of one namespace: its sockets' sessions, the messages it sends to the other gateways, and the
/// queries of the whole cluster. Kept out of <see cref="Namespace"/>, whose surface is the application's.
/// <para>
/// Broadcasts leave in the order they were made: while one waits for a room's route to be looked up, the ones after it
/// wait behind it; in the steady state every route is cached and a broadcast is sent without waiting.
/// </para>
/// </summary>
internal sealed class NamespaceCluster(Namespace nsp, GatewayCluster cluster)
{
    [ThreadStatic]
    private static List<SiloAddress>? t_targets;

    private readonly Lock _lock = new();

    // The last broadcast whose targets are being looked up; the next ones start after it.
    private Task _resolving = Task.CompletedTask;

    /// <summary>This gateway.</summary>
    public SiloAddress Self => cluster.Self;

    /// <inheritdoc cref="GatewayCluster.IsDetached"/>
    public bool IsDetached => cluster.IsDetached;

    /// <inheritdoc cref="GatewayCluster.Sequenced"/>
    public Grains.Recovery.SequencedBroadcasts Sequenced => cluster.Sequenced;

    /// <inheritdoc cref="GatewayCluster.Sessions"/>
    public SessionClient Sessions => cluster.Sessions;

    public ISocketGrain Session(string id) => cluster.Session(nsp.Name, id);

    /// <inheritdoc cref="GatewayCluster.EndLater"/>
    public void EndLater(Socket socket, ImmutableArray<string> rooms, Exception failure) => cluster.EndLater(socket, rooms, failure);

    /// <summary>Sends a broadcast once to each other gateway hosting a selected socket; completes once each took it, with how many did.</summary>
    public Task<int> BroadcastAsync(ClusterMessage message)
    {
        if (cluster.IsDetached)
        {
            return Task.FromResult(0);
        }

        lock (_lock)
        {
            if (_resolving.IsCompleted)
            {
                var targets = t_targets ??= [];
                try
                {
                    if (cluster.Router.TryResolve(nsp.Name, message.Rooms, Self, targets))
                    {
                        return targets.Count == 0 ? Task.FromResult(0) : cluster.Router.BroadcastAsync(targets, message);
                    }
                }
                finally
                {
                    targets.Clear();
                }
            }

            var started = StartAfterAsync(_resolving, message);
            _resolving = started;
            return started.Unwrap();
        }
    }

    /// <summary>
    /// Sends a broadcast that asks for acknowledgements to the other gateways hosting a selected socket and returns each
    /// one's answer; a gateway that could not answer (it left the cluster, or the call failed) is a null answer.
    /// </summary>
    public Task<BroadcastAcks?[]> BroadcastWithAcksAsync(ClusterMessage message, TimeSpan? timeout)
    {
        if (cluster.IsDetached)
        {
            return Task.FromResult(Array.Empty<BroadcastAcks?>());
        }

        lock (_lock)
        {
            var started = StartWithAcksAfterAsync(_resolving, message, timeout);
            _resolving = started;
            return started.Unwrap();
        }
    }

    /// <summary>
    /// Asks each other gateway hosting a selected socket (every live gateway for none) and returns their answers. A call
    /// that fails for a reason that passes is retried within the bound; a gateway that left the cluster meanwhile answers
    /// <paramref name="none"/>; any other failure reaches the caller.
    /// </summary>
    public async Task<List<T>> AskAsync<T>(ImmutableArray<string> rooms, Func<IGatewayService, Task<T>> ask, T none)
    {
        if (cluster.IsDetached)
        {
            return [];
        }

        var targets = await cluster.Router.ResolveAsync(nsp.Name, rooms, Self).ConfigureAwait(false);
        var answers = new Task<T>[targets.Count];
        for (var i = 0; i < answers.Length; i++)
        {
            answers[i] = AskOneAsync(targets[i], ask, none);
        }

        var all = await Task.WhenAll(answers).ConfigureAwait(false);
        if (cluster.IsDetached)
        {
            // This gateway was cut off from the cluster while it asked: a gateway that seemed gone may only be out of
            // its sight, so the answers cannot be trusted to be complete.
            throw new ClusterChangingException("This gateway left the cluster while the request ran; its outcome is unknown.");
        }

        return [.. all];
    }

    /// <summary>
    /// Every other live silo that may be a gateway (a server-side emit goes to all of them): the known gateways, and the
    /// active silos whose grain types are not known here yet (<see cref="IsKnownGateway"/> tells them apart).
    /// </summary>
    public List<SiloAddress> OtherGateways()
    {
        var others = new List<SiloAddress>();
        if (!cluster.IsDetached)
        {
            foreach (var gateway in cluster.Router.Directory.Candidates)
            {
                if (!gateway.Equals(Self))
                {
                    others.Add(gateway);
                }
            }
        }

        return others;
    }

    public IGatewayService Gateway(SiloAddress gateway) => cluster.Gateway(gateway);

    /// <summary>Every other live gateway whose grain types this silo knows (a grain-only silo has no inbox).</summary>
    public List<SiloAddress> OtherKnownGateways()
    {
        var others = new List<SiloAddress>();
        foreach (var gateway in cluster.Router.Directory.Gateways)
        {
            if (!gateway.Equals(Self))
            {
                others.Add(gateway);
            }
        }

        return others;
    }

    /// <summary>How many sockets are in <paramref name="room"/>, on every gateway (its grain).</summary>
    public Task<int> CountRoomMembersAsync(string room) =>
        cluster.Retry.RunAsync(static s => s.Room.CountAsync(), (Room: cluster.Room(nsp.Name, room), true));

    /// <summary>The ids of the sockets in <paramref name="room"/>, on every gateway, read from its grain in pages.</summary>
    public async Task<IReadOnlyCollection<string>> GetRoomMembersAsync(string room)
    {
        var grain = cluster.Room(nsp.Name, room);
        var count = await cluster.Retry.RunAsync(static g => g.CountAsync(), grain).ConfigureAwait(false);
        var parts = RoomPages.PartsFor(count);
        var members = new HashSet<string>(StringComparer.Ordinal);
        for (var part = 0; part < parts; part++)
        {
            members.UnionWith(await cluster.Retry.RunAsync(static s => s.grain.GetMembersAsync(s.part, s.parts), (grain, part, parts)).ConfigureAwait(false));
        }

        return members;
    }

    /// <summary>
    /// At most <paramref name="pageSize"/> ids of the sockets in <paramref name="room"/>, on every gateway, after socket
    /// <paramref name="after"/> in the room grain's order (one call to it).
    /// </summary>
    public Task<MemberPage> GetRoomMembersPageAsync(string room, string? after, int pageSize) =>
        cluster.Retry.RunAsync(static s => s.Room.GetMembersAfterAsync(s.after, s.pageSize), (Room: cluster.Room(nsp.Name, room), after, pageSize));

    /// <summary>The rooms of socket <paramref name="socketId"/>, wherever it is connected (its session).</summary>
    public async Task<IReadOnlyCollection<string>> GetSocketRoomsAsync(string socketId) =>
        await cluster.Retry.RunAsync(static s => s.GetRoomsAsync(), Session(socketId)).ConfigureAwait(false);

    /// <summary>Every room with at least one socket, on every gateway; every socket's own room too with <paramref name="includeSocketRooms"/>.</summary>
    public async Task<IReadOnlyCollection<string>> GetRoomNamesAsync(bool includeSocketRooms)
    {
        var names = await ListAsync(rooms: true).ConfigureAwait(false);
        if (includeSocketRooms)
        {
            names.UnionWith(await ListAsync(rooms: false).ConfigureAwait(false));
        }

        return names;
    }

    /// <summary>The ids of every socket of the namespace, on every gateway.</summary>
    public async Task<IReadOnlyCollection<string>> GetSocketIdsAsync() => await ListAsync(rooms: false).ConfigureAwait(false);

    // Completes once the broadcast's sends have started (the next broadcast may start then), with their completion.
    private async Task<Task<int>> StartAfterAsync(Task before, ClusterMessage message)
    {
        await AfterAsync(before).ConfigureAwait(false);
        var targets = await cluster.Router.ResolveAsync(nsp.Name, message.Rooms, Self).ConfigureAwait(false);
        return cluster.Router.BroadcastAsync(targets, message);
    }

    private async Task<Task<BroadcastAcks?[]>> StartWithAcksAfterAsync(Task before, ClusterMessage message, TimeSpan? timeout)
    {
        await AfterAsync(before).ConfigureAwait(false);
        var targets = await cluster.Router.ResolveAsync(nsp.Name, message.Rooms, Self).ConfigureAwait(false);
        var answers = new Task<BroadcastAcks?>[targets.Count];
        for (var i = 0; i < answers.Length; i++)
        {
            answers[i] = AskAcksAsync(targets[i], message, timeout);
        }

        return Task.WhenAll(answers);
    }

    // The broadcast before this one has started (or failed, which was reported to its own caller).
    private static async Task AfterAsync(Task before)
    {
        try
        {
            await before.ConfigureAwait(false);
        }
        catch (Exception)
        {
        }
    }

    private async Task<BroadcastAcks?> AskAcksAsync(SiloAddress gateway, ClusterMessage message, TimeSpan? timeout)
    {
        try
        {
            return await cluster.Gateway(gateway).DeliverWithAcksAsync(message, timeout).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Not retried: the broadcast may have reached its sockets. The caller reports the answers as incomplete.
            SocketIOLog.GatewayDidNotAnswer(nsp.Server.Logger, gateway, ex);
            return null;
        }
    }

    private async Task<T> AskOneAsync<T>(SiloAddress gateway, Func<IGatewayService, Task<T>> ask, T none)
    {
        if (!IsKnownGateway(gateway))
        {
            // An active silo whose grain types are not known here yet: a gateway, or a grain-only silo that refuses.
            try
            {
                return await ask(cluster.Gateway(gateway)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ClusterRetry.IsTransient(ex) && !IsKnownGateway(gateway))
            {
                return none;
            }
        }

        try
        {
            return await cluster.Retry.RunAsync(static s => s.ask(s.service), (ask, service: cluster.Gateway(gateway)), gateway).ConfigureAwait(false);
        }
        catch (Exception ex) when (ClusterRetry.IsTransient(ex) && !IsKnownGateway(gateway))
        {
            // The gateway left the cluster: its sockets are gone with it.
            return none;
        }
    }

    /// <summary>Applies a cluster-wide join, leave or disconnection to the disconnected sessions every silo keeps for recovery.</summary>
    public async Task ApplyToSuspendedAsync(ClusterMessage message)
    {
        if (cluster.IsDetached)
        {
            return;
        }

        var silos = cluster.LiveSilos();
        var applies = new Task[silos.Length];
        for (var i = 0; i < applies.Length; i++)
        {
            applies[i] = ApplyToSuspendedOnAsync(silos[i], message);
        }

        await Task.WhenAll(applies).ConfigureAwait(false);
    }

    private async Task ApplyToSuspendedOnAsync(SiloAddress silo, ClusterMessage message)
    {
        try
        {
            await cluster.Retry.RunAsync(static s => s.Service.ApplyToSuspendedAsync(s.message), (Service: cluster.Silo(silo), message), silo).ConfigureAwait(false);
        }
        catch (Exception ex) when (ClusterRetry.IsTransient(ex) && cluster.Membership.CurrentSnapshot.GetSiloStatus(silo) is SiloStatus.Dead or SiloStatus.None)
        {
            // The silo left the cluster: the sessions it kept are gone with it.
        }
    }

    /// <summary>Whether <paramref name="silo"/> is a live gateway whose grain types this silo knows.</summary>
    public bool IsKnownGateway(SiloAddress silo) => cluster.Router.Directory.Gateways.Contains(silo);

    // A namespace-wide listing from the silos' session registries, in parts small enough for one message each.
    private async Task<HashSet<string>> ListAsync(bool rooms)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var silo in cluster.LiveSilos())
        {
            var service = cluster.Silo(silo);
            try
            {
                var count = await cluster.Retry.RunAsync(static s => s.service.CountAsync(s.Name), (service, nsp.Name), silo).ConfigureAwait(false);
                var parts = RoomPages.PartsFor(rooms ? count.Rooms : count.Sockets);
                for (var part = 0; part < parts; part++)
                {
                    names.UnionWith(await cluster.Retry.RunAsync(
                        static s => s.rooms ? s.service.GetRoomNamesAsync(s.Name, s.part, s.parts) : s.service.GetSocketIdsAsync(s.Name, s.part, s.parts),
                        (service, nsp.Name, part, parts, rooms),
                        silo).ConfigureAwait(false));
                }
            }
            catch (Exception ex) when (ClusterRetry.IsTransient(ex) && cluster.Membership.CurrentSnapshot.GetSiloStatus(silo) is SiloStatus.Dead or SiloStatus.None)
            {
                // The silo left the cluster: its sessions are gone with it.
            }
        }

        return names;
    }
}
