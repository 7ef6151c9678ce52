using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansRooms.Grains.Routing;
using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Chaos;

/// <summary>
/// One chaos run over a cluster of gateways and a grain-only silo whose membership is in a real redis-server: actors
/// drive seeded random operations through real clients (connects, disconnects, joins and leaves acknowledged by the
/// application, cluster-wide joins and leaves, broadcasts with unique sequence numbers), while faults come one at a
/// time with quiet periods between them. It records what was acknowledged and when, and returns every broken invariant:
/// <list type="number">
/// <item>every answer a live client waits for (its connect, its join and leave acknowledgements) arrives within 30 s,
/// unless its own gateway was killed, and so does every broadcast and cluster-wide request of a live gateway; with no
/// fault in progress, none is a failure and none takes more than 5 s;</item>
/// <item>a broadcast made while no fault was in progress reaches each live member once and nobody else (sockets whose
/// membership was changing meanwhile are left out);</item>
/// <item>within 5 s of the last fault, every live socket's rooms agree in its gateway's table, its session and every
/// room grain (and with what was acknowledged), no room names a socket that is gone, and a broadcast to each room
/// reaches exactly its members.</item>
/// </list>
/// A fault's window runs from the fault until membership shows the expected silos everywhere and two more seconds
/// passed; adding a gateway or a grain-only silo is no fault.
/// </summary>
internal sealed class ChaosRun(OrleansGatewayCluster cluster, RedisServer redis, ChaosSettings settings, Action<string> output)
{
    private const int Actors = 8;
    private const int MinClients = 30;
    private const int MaxClients = 55;
    private const int InitialClients = 40;
    private const int MaxReported = 25;
    private static readonly string[] RoomNames = [.. Enumerable.Range(0, 10).Select(i => $"room-{i}")];

    // Generous: an answer may wait for a dead silo to be declared dead and for the retry bound behind it.
    private static readonly TimeSpan AnswerWait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan QuietAnswerWait = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan SettleWait = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan SettlePeriod = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ConvergenceWait = TimeSpan.FromSeconds(5);

    // A client closed (or whose gateway was killed) this soon after a broadcast might not have read it yet.
    private static readonly TimeSpan DeliveryGrace = TimeSpan.FromSeconds(5);

    private readonly Lock _model = new();
    private readonly List<ChaosGateway> _gateways = [];
    private readonly List<SiloHandle> _grainSilos = [];
    private readonly List<ChaosClient> _clients = [];
    private readonly List<ChaosClient> _everyClient = [];
    private readonly List<Probe> _probes = [];
    private readonly List<FaultWindow> _faults = [];
    private readonly HashSet<string> _idRooms = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(long At, string What)> _violations = new();
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (long Ticks, long At)> _slowest = new(StringComparer.Ordinal);
    private readonly WarningLog _warnings = new();
    private int _gatewaysStarted;
    private int _grainSilosStarted;
    private int _probeSeq;
    private int _clusterChanging;
    private long _lastAnswer;
    private volatile bool _storm;

    public IReadOnlyList<ChaosClient> Clients
    {
        get
        {
            lock (_model)
            {
                return [.. _everyClient];
            }
        }
    }

    /// <summary>Runs the chaos and the final checks; returns the broken invariants (none: it passed).</summary>
    public async Task<IReadOnlyList<string>> RunAsync()
    {
        var started = ChaosClock.Now;
        var faults = new Random(settings.Seed);
        foreach (var node in cluster.Gateways)
        {
            Track(node);
        }

        await AddGrainSiloAsync();
        await SettleAsync("start");
        await Parallel.ForEachAsync(Enumerable.Range(0, InitialClients), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            await ConnectAsync(new Random(HashCode.Combine(settings.Seed, i, "connect"))));
        Log($"{Live().Count} clients connected to {_gateways.Count} gateways");

        using var stop = new CancellationTokenSource();
        var actors = Enumerable.Range(0, Actors).Select(i => Task.Run(() => ActAsync(new Random(HashCode.Combine(settings.Seed, i)), stop.Token))).ToArray();
        FaultWindow last;
        try
        {
            await QuietAsync(faults);
            var round = 0;
            do
            {
                round++;
                var order = Enum.GetValues<Fault>();
                faults.Shuffle(order);
                Log($"round {round}: {string.Join(", ", order)}");
                foreach (var fault in order)
                {
                    await RunFaultAsync(fault, faults);
                    await QuietAsync(faults);
                }
            }
            while (ChaosClock.Now < ChaosClock.After(started, settings.Duration));

            // The last fault strikes as the operations stop (those under way go on to their answers): within five seconds
            // of it the cluster must agree with itself again, whatever it was doing when it struck.
            await stop.CancelAsync();
            last = await LastFaultAsync(faults);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(actors).WaitAsync(AnswerWait + TimeSpan.FromSeconds(30));
        }

        Log("the operations under way when the last fault struck are over");
        Log($"operations: {string.Join(", ", _counts.OrderBy(c => c.Key).Select(c => $"{c.Key} {c.Value}"))}");
        Log($"slowest answers: {SlowestAnswers()}");
        Log($"{_warnings.Count} warnings and errors logged by the silos, most frequent first:");
        foreach (var line in _warnings.Summary(15))
        {
            Log("  " + line);
        }

        // The convergence first: it is bound to the time of the last fault, the rest is not.
        await CheckConvergenceAsync(last);
        await CheckFinalBroadcastAsync();
        CheckAnswersOfProbes();
        return Report();
    }

    private enum Fault
    {
        KillGateway,
        KillTwoGatewaysInAStorm,
        KillGrainSilo,
        RestartMembershipStore,
    }

    private async Task RunFaultAsync(Fault fault, Random random)
    {
        switch (fault)
        {
            case Fault.KillGateway:
                await KillGatewaysAsync(1, random, storm: false);
                break;
            case Fault.KillTwoGatewaysInAStorm:
                await KillGatewaysAsync(2, random, storm: true);
                break;
            case Fault.KillGrainSilo:
                await KillGrainSiloAsync(random);
                break;
            case Fault.RestartMembershipStore:
                await RestartMembershipStoreAsync(random);
                break;
        }
    }

    private async Task KillGatewaysAsync(int count, Random random, bool storm)
    {
        var window = BeginFault(storm ? $"kill {count} gateways at once in a storm of joins and leaves" : $"kill {count} gateway");
        if (storm)
        {
            _storm = true;
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(500, 1500)));
        }

        await KillGatewaysAsync(count, random);
        if (storm)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(500, 1500)));
            _storm = false;
        }

        await SettleAsync(window.What);
        EndFault(window);
        await QuietAsync(random);

        await AddGatewaysAsync(count);
    }

    private async Task KillGatewaysAsync(int count, Random random)
    {
        List<ChaosGateway> victims;
        lock (_model)
        {
            victims = [.. _gateways.OrderBy(_ => random.Next()).Take(count)];
            var now = ChaosClock.Now;
            foreach (var victim in victims)
            {
                victim.KilledAt = now;
                _gateways.Remove(victim);
                foreach (var client in _clients.Where(c => c.Gateway == victim))
                {
                    client.MarkGone(now, $"its gateway {victim} was killed");
                }
            }

            _clients.RemoveAll(c => !c.IsLive);
        }

        Log($"killing {string.Join(" and ", victims)}");
        await Task.WhenAll(victims.Select(v => cluster.KillGatewayAsync(v.Node)));
    }

    // A gateway or the grain-only silo, killed for good: the final checks run on what is left.
    private async Task<FaultWindow> LastFaultAsync(Random random)
    {
        if (random.Next(2) == 0)
        {
            var window = BeginFault("kill 1 gateway, the last fault");
            await KillGatewaysAsync(1, random);
            return window;
        }
        else
        {
            var window = BeginFault("kill the grain-only silo, the last fault");
            SiloHandle victim;
            lock (_model)
            {
                victim = _grainSilos[random.Next(_grainSilos.Count)];
                _grainSilos.Remove(victim);
            }

            Log($"killing {victim.Name}");
            await cluster.KillGrainSiloAsync(victim);
            return window;
        }
    }

    // Starting a gateway is no fault: scaling out is routine, and the gateway takes clients (a load balancer's health
    // check passes) as soon as its silo is active in its own view. Broadcasts made meanwhile are checked like any other.
    private async Task AddGatewaysAsync(int count)
    {
        Log($"adding {count} gateway(s)");
        for (var i = 0; i < count; i++)
        {
            Track(await cluster.AddGatewayAsync(untilKnown: false));
        }

        await SettleAsync($"adding {count} gateway(s)");
        Log("the cluster knows the new gateway(s)");
    }

    private async Task KillGrainSiloAsync(Random random)
    {
        var window = BeginFault("kill the grain-only silo");
        SiloHandle victim;
        lock (_model)
        {
            victim = _grainSilos[random.Next(_grainSilos.Count)];
            _grainSilos.Remove(victim);
        }

        Log($"killing {victim.Name}");
        await cluster.KillGrainSiloAsync(victim);
        await SettleAsync(window.What);
        EndFault(window);
        await QuietAsync(random);

        // Likewise a new silo: sessions and rooms are placed on it as soon as the others see it.
        Log("adding a grain-only silo");
        await AddGrainSiloAsync();
        await SettleAsync("adding a grain-only silo");
        Log("the cluster knows the new grain-only silo");
    }

    // The membership table must come back with its store: redis here keeps an append-only file synced on every write
    // (as MembershipStoreOutageTests does, and as docs/cluster.md asks of a production store), so the store is killed
    // outright and started again on the same files. A store that came back empty would be a new cluster, which
    // Orleans does not survive and no deployment should do.
    private async Task RestartMembershipStoreAsync(Random random)
    {
        var window = BeginFault("restart the membership store");
        var outage = TimeSpan.FromMilliseconds(random.Next(1000, 4000));
        Log($"membership store down for {outage.TotalSeconds:F1}s");
        redis.Kill();
        await Task.Delay(outage);
        await redis.RestartAsync();
        await SettleAsync(window.What);
        EndFault(window);
    }

    private async Task QuietAsync(Random random) => await Task.Delay(TimeSpan.FromMilliseconds(random.Next(3000, 5000)));

    private ChaosGateway Track(GatewayNode node)
    {
        var gateway = new ChaosGateway(node, $"g{Interlocked.Increment(ref _gatewaysStarted)}");
        _warnings.Attach(node.Services, gateway.Name);
        node.Io.Sockets.OnConnection(socket =>
        {
            socket.On("join", e => ChangeRoomAsync(e, join: true));
            socket.On("leave", e => ChangeRoomAsync(e, join: false));
        });
        lock (_model)
        {
            _gateways.Add(gateway);
        }

        Log($"{gateway} is {cluster.SiloOf(node)}");
        return gateway;
    }

    // The application: a client asks to join or leave a room and waits for the answer.
    private static async Task ChangeRoomAsync(SocketEvent e, bool join)
    {
        var room = e.Get<string>(0)!;
        try
        {
            if (join)
            {
                await e.Socket.JoinAsync(room);
            }
            else
            {
                await e.Socket.LeaveAsync(room);
            }

            e.Ack("ok");
        }
        catch (Exception ex)
        {
            // The cluster could not record it (the socket's rooms are unchanged): the client is told so.
            e.Ack($"{ex.GetType().Name}: {ex.Message}");
        }
    }

    private async Task AddGrainSiloAsync()
    {
        var silo = await cluster.AddGrainSiloAsync();
        var name = $"s{Interlocked.Increment(ref _grainSilosStarted)}";
        _warnings.Attach(((InProcessSiloHandle)silo).SiloHost.Services, name);
        lock (_model)
        {
            _grainSilos.Add(silo);
        }

        Log($"grain-only silo {name} is {silo.SiloAddress}");
    }

    // ---- Operations ----

    private async Task ActAsync(Random random, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var live = Live().Count;
                var roll = random.Next(100);
                if (_storm)
                {
                    await (roll < 85 ? ChangeRoomAsync(random) : ChangeRoomsClusterWideAsync(random));
                    await Task.Delay(1, stop);
                    continue;
                }

                if (live < MinClients || (roll < 8 && live < MaxClients))
                {
                    await ConnectAsync(random);
                }
                else if (roll < 12)
                {
                    await DisconnectAsync(random);
                }
                else if (roll < 55)
                {
                    await ChangeRoomAsync(random);
                }
                else if (roll < 63)
                {
                    await ChangeRoomsClusterWideAsync(random);
                }
                else
                {
                    await ProbeAsync(random);
                }

                await Task.Delay(random.Next(5, 40), stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                Violation($"the run itself failed: {ex}");
            }
        }
    }

    private async Task ConnectAsync(Random random)
    {
        var gateway = PickGateway(random);
        if (gateway is null)
        {
            return;
        }

        var start = ChaosClock.Now;
        TestClient? client = null;
        try
        {
            client = await TestClient.OpenAsync(gateway.Node.Url);
            client.AnswerWait = AnswerWait;
            await client.JoinNamespaceAsync();
        }
        catch (Exception ex)
        {
            if (client is not null)
            {
                await client.DisposeAsync();
            }

            var end = ChaosClock.Now;
            if (gateway.IsKilled)
            {
                Count("connect lost with its gateway");
                return;
            }

            Answered(end);
            if (ex is ConnectErrorException && InFault(start, end))
            {
                Count("connect refused during a fault");
            }
            else
            {
                Violation($"a client's connect to {gateway} [{ChaosClock.At(start)}, {ChaosClock.At(end)}] got no CONNECT: {Describe(ex)}");
            }

            return;
        }

        var connected = new ChaosClient(client, gateway, ChaosClock.Now);
        lock (_model)
        {
            _everyClient.Add(connected);
            if (gateway.IsKilled)
            {
                connected.MarkGone(connected.ConnectedAt, $"its gateway {gateway} was killed");
            }
            else
            {
                _clients.Add(connected);
            }

            Answered(connected.ConnectedAt);
        }

        Count("connect");
        Took("connect", start, connected.ConnectedAt, $"the connect of {connected}");
    }

    private async Task DisconnectAsync(Random random)
    {
        if (PickClient(random) is not { } client)
        {
            return;
        }

        lock (_model)
        {
            client.MarkGone(ChaosClock.Now, "it disconnected");
            _clients.Remove(client);
        }

        // Both ways a client leaves: a namespace DISCONNECT (the connection closes right after), or the connection closing.
        try
        {
            if (random.Next(2) == 0)
            {
                Count("disconnect from the namespace");
                await client.Client.DisconnectNamespaceAsync();
                await Task.Delay(random.Next(0, 50));
            }
            else
            {
                Count("close");
            }

            await client.Client.DisposeAsync();
        }
        catch (Exception ex)
        {
            if (client.Gateway.IsKilled)
            {
                // Its gateway is being killed: its connection breaks under it.
                Count("disconnect lost with its gateway");
            }
            else
            {
                Violation($"the connection of live client {client} broke as it left: {Describe(ex)}");
            }
        }
        finally
        {
            client.Release();
        }
    }

    private async Task ChangeRoomAsync(Random random)
    {
        if (PickClient(random) is not { } client)
        {
            return;
        }

        try
        {
            // Leaving its own room would take the socket out of it on its gateway only (as Socket.IO allows): not asked here.
            var room = PickRoom(random, not: client.Id);
            Change change;
            bool join;
            lock (_model)
            {
                var history = client.History(room);
                join = history.Current switch
                {
                    Membership.In => random.Next(100) < 20,
                    Membership.Out => random.Next(100) < 80,
                    _ => random.Next(2) == 0,
                };
                change = new Change(ChaosClock.Now, $"{(join ? "join" : "leave")} {room}");
                history.Add(change);
            }

            string answer;
            try
            {
                var reply = client.Client.EmitWithAckAsync(join ? "join" : "leave", room);
                if (await Task.WhenAny(reply, client.Gone) != reply)
                {
                    // Its connection is going with its gateway: whatever the answer does is of no interest any more.
                    _ = reply.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                    Count($"{(join ? "join" : "leave")} lost with its client");
                    return;
                }

                answer = (await reply)[0].GetString() ?? "";
            }
            catch (Exception ex)
            {
                if (!client.IsLive)
                {
                    Count($"{(join ? "join" : "leave")} lost with its client");
                }
                else
                {
                    Violation($"{change} of live client {client} got no acknowledgement: {Describe(ex)}", change.Start);
                    lock (_model)
                    {
                        // Still under way, for all the test knows.
                        client.History(room).Settle(change, Membership.Unknown);
                    }
                }

                return;
            }

            lock (_model)
            {
                change.End = ChaosClock.Now;
                var ok = answer == "ok";
                // A change that failed left the socket's rooms as they were.
                var history = client.History(room);
                history.Settle(change, ok ? (join ? Membership.In : Membership.Out) : history.Current);
                Answered(change.End);
                if (ok)
                {
                    Count(join ? "join" : "leave");
                    Took(join ? "join" : "leave", change.Start, change.End, $"{change} of {client}");
                }
                else if (InFault(change.Start, change.End))
                {
                    Count($"{(join ? "join" : "leave")} failed during a fault");
                }
                else
                {
                    Violation($"{change} of client {client} failed outside any fault: {answer}", change.Start);
                }
            }
        }
        finally
        {
            client.Release();
        }
    }

    // One at a time: a request's effect depends on which sockets are in its room while it runs, and two of them at once
    // would make each other's unknowable. They still race the clients' own joins and leaves.
    private async Task ChangeRoomsClusterWideAsync(Random random)
    {
        if (Interlocked.CompareExchange(ref _clusterChanging, 1, 0) != 0)
        {
            return;
        }

        try
        {
            var gateway = PickGateway(random);
            if (gateway is null)
            {
                return;
            }

            var join = random.Next(2) == 0;
            var from = PickRoom(random);
            // A request to leave a socket's own room would take it out of it on its gateway only: named rooms are left.
            var to = join ? PickRoom(random, not: from) : PickNamedRoom(random, not: from);
            var what = $"{gateway}: io.In({from}).Sockets{(join ? "Join" : "Leave")}Async({to})";
            var start = ChaosClock.Now;
            Exception? failure = null;
            var finished = true;
            try
            {
                var operation = gateway.Io.In(from);
                var request = join ? operation.SocketsJoinAsync(to).AsTask() : operation.SocketsLeaveAsync(to).AsTask();
                await request.WaitAsync(AnswerWait);
            }
            catch (TimeoutException ex)
            {
                failure = ex;
                finished = false;
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            lock (_model)
            {
                var end = ChaosClock.Now;
                if (!gateway.IsKilled)
                {
                    Answered(end);
                }

                if (failure is null)
                {
                    Count(join ? "cluster-wide join" : "cluster-wide leave");
                    Took("cluster-wide change", start, end, what);
                }
                else if (gateway.IsKilled)
                {
                    Count("cluster-wide change lost with its gateway");
                }
                else if (finished && InFault(start, end))
                {
                    Count("cluster-wide change failed during a fault");
                }
                else
                {
                    Violation($"{what} [{ChaosClock.At(start)}, {ChaosClock.At(end)}] failed: {Describe(failure)}");
                }

                // Every socket that may have been in the room meanwhile may have been changed; those certainly in it were.
                foreach (var client in _everyClient)
                {
                    if (client.ConnectedAt > end || client.GoneAt < start)
                    {
                        continue;
                    }

                    var selected = MembershipOf(client, from, start, end);
                    if (selected == Membership.Out || to == client.Id)
                    {
                        continue;
                    }

                    var change = new Change(start, what) { End = finished ? end : long.MaxValue };
                    var history = client.History(to);
                    history.Add(change);
                    // A request whose gateway was killed under it may have reached some gateways and not others.
                    history.Settle(change, finished && selected == Membership.In && failure is null && !gateway.IsKilled ? (join ? Membership.In : Membership.Out) : Membership.Unknown);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _clusterChanging, 0);
        }
    }

    private async Task ProbeAsync(Random random)
    {
        var gateway = PickGateway(random);
        if (gateway is null)
        {
            return;
        }

        var shape = random.Next(100);
        string[] rooms = shape < 90 ? [PickRoom(random)] : [];
        string[] except = [];
        if (shape < 15)
        {
            rooms = [.. rooms, PickRoom(random)];
        }
        else if (shape < 30)
        {
            except = [PickRoom(random)];
        }

        var seq = Interlocked.Increment(ref _probeSeq);
        var probe = new Probe(seq, gateway.Name, rooms, except, ChaosClock.Now);
        lock (_model)
        {
            _probes.Add(probe);
        }

        try
        {
            var operation = rooms.Length == 0 ? gateway.Io.Sockets.Except(except) : gateway.Io.To(rooms).Except(except);
            await operation.EmitAsync("probe", seq).AsTask().WaitAsync(AnswerWait);
            probe.End = ChaosClock.Now;
            probe.Completed = true;
            Answered(probe.End);
            Count("broadcast");
            Took("broadcast", probe.Start, probe.End, probe.ToString());
        }
        catch (Exception ex)
        {
            var end = ChaosClock.Now;
            if (gateway.IsKilled)
            {
                Count("broadcast lost with its gateway");
                return;
            }

            Answered(end);
            if (ex is not TimeoutException && InFault(probe.Start, end))
            {
                Count("broadcast failed during a fault");
            }
            else
            {
                Violation($"{probe} failed at {ChaosClock.At(end)}: {Describe(ex)}");
            }
        }
    }

    private ChaosGateway? PickGateway(Random random)
    {
        lock (_model)
        {
            return _gateways.Count == 0 ? null : _gateways[random.Next(_gateways.Count)];
        }
    }

    // Mostly a named room; sometimes the room named by a live socket's id, which its session serves and others may join.
    private string PickRoom(Random random, string? not = null)
    {
        if (random.Next(100) < 15)
        {
            lock (_model)
            {
                if (_clients.Count > 0 && _clients[random.Next(_clients.Count)].Id is var id && id != not)
                {
                    _idRooms.Add(id);
                    return id;
                }
            }
        }

        return PickNamedRoom(random, not);
    }

    private static string PickNamedRoom(Random random, string? not)
    {
        string room;
        do
        {
            room = RoomNames[random.Next(RoomNames.Length)];
        }
        while (room == not);
        return room;
    }

    // A socket is in the room named by its id from its connection on (guarded by the model lock).
    private static Membership MembershipOf(ChaosClient client, string room, long from, long to) =>
        room == client.Id ? Membership.In : client.History(room).During(from, to);

    private ChaosClient? PickClient(Random random)
    {
        lock (_model)
        {
            for (var attempt = 0; attempt < 8 && _clients.Count > 0; attempt++)
            {
                var client = _clients[random.Next(_clients.Count)];
                if (client.TryAcquire())
                {
                    return client;
                }
            }

            return null;
        }
    }

    private List<ChaosClient> Live()
    {
        lock (_model)
        {
            return [.. _clients];
        }
    }

    // ---- Faults and settling ----

    private FaultWindow BeginFault(string what)
    {
        var window = new FaultWindow(what, ChaosClock.Now);
        lock (_model)
        {
            _faults.Add(window);
        }

        Log($"fault: {what}");
        return window;
    }

    private void EndFault(FaultWindow window)
    {
        lock (_model)
        {
            window.End = ChaosClock.Now;
        }

        Log($"settled after: {window}");
    }

    private bool InFault(long from, long to)
    {
        lock (_model)
        {
            return _faults.Any(f => f.Overlaps(from, to));
        }
    }

    /// <summary>
    /// Waits until every live silo's membership lists exactly the live silos as active (the killed ones dead, the new
    /// ones active), and every gateway routes to exactly the live gateways; then for <see cref="SettlePeriod"/> more.
    /// </summary>
    private async Task SettleAsync(string after)
    {
        var deadline = ChaosClock.After(ChaosClock.Now, SettleWait);
        string? unsettled;
        while ((unsettled = Unsettled()) is not null)
        {
            if (ChaosClock.Now > deadline)
            {
                throw new InvalidOperationException($"The cluster did not settle within {SettleWait.TotalSeconds}s after '{after}': {unsettled}");
            }

            await Task.Delay(100);
        }

        await Task.Delay(SettlePeriod);
    }

    private string? Unsettled()
    {
        List<ChaosGateway> gateways;
        List<SiloHandle> grainSilos;
        lock (_model)
        {
            gateways = [.. _gateways];
            grainSilos = [.. _grainSilos];
        }

        var expectedGateways = gateways.Select(g => cluster.SiloOf(g.Node)).ToHashSet();
        var expected = expectedGateways.Concat(grainSilos.Select(s => s.SiloAddress)).ToHashSet();
        var silos = gateways.Select(g => (g.Name, g.Node.Services)).Concat(grainSilos.Select(s => (s.Name, ((InProcessSiloHandle)s).SiloHost.Services)));
        foreach (var (name, services) in silos)
        {
            var snapshot = services.GetRequiredService<IClusterMembershipService>().CurrentSnapshot;
            foreach (var silo in expected)
            {
                if (snapshot.GetSiloStatus(silo) != SiloStatus.Active)
                {
                    return $"{name} sees {silo} {snapshot.GetSiloStatus(silo)}";
                }
            }

            foreach (var (silo, member) in snapshot.Members)
            {
                if (!expected.Contains(silo) && member.Status != SiloStatus.Dead)
                {
                    return $"{name} sees {silo} {member.Status}";
                }
            }
        }

        foreach (var gateway in gateways)
        {
            var routed = gateway.Node.Services.GetRequiredService<GatewayDirectory>().Gateways.ToHashSet();
            if (!routed.SetEquals(expectedGateways))
            {
                return $"{gateway} routes to {string.Join(", ", routed)}";
            }
        }

        return null;
    }

    // ---- Checks ----

    /// <summary>Invariant 2: each broadcast made outside every fault reached each certain member once and no certain non-member.</summary>
    private void CheckAnswersOfProbes()
    {
        var checkedProbes = 0;
        var deliveries = 0;
        List<Probe> probes;
        List<ChaosClient> clients;
        lock (_model)
        {
            probes = [.. _probes];
            clients = [.. _everyClient];
        }

        foreach (var probe in probes)
        {
            if (!probe.Completed || InFault(probe.Start, probe.End))
            {
                continue;
            }

            checkedProbes++;
            foreach (var client in clients)
            {
                if (client.ConnectedAt >= probe.Start || client.GoneAt <= ChaosClock.After(probe.End, DeliveryGrace))
                {
                    continue;
                }

                Membership expected;
                lock (_model)
                {
                    expected = probe.Expect(room => MembershipOf(client, room, probe.Start, probe.End));
                }

                var received = client.Received(probe.Seq);
                if (expected == Membership.In)
                {
                    deliveries++;
                }

                if ((expected == Membership.In && received != 1) || (expected == Membership.Out && received != 0))
                {
                    string histories;
                    lock (_model)
                    {
                        histories = string.Join("; ", probe.Rooms.Concat(probe.Except).Distinct().Where(r => r != client.Id).Select(r => $"{r}: {client.History(r)}"));
                    }

                    Violation(
                        $"{probe} reached {client} {received} time(s), expected {(expected == Membership.In ? "once" : "never")}; {histories}",
                        probe.Start);
                }
            }
        }

        Log($"{checkedProbes} of {probes.Count} broadcasts were made outside every fault and checked ({deliveries} deliveries expected)");
    }

    /// <summary>
    /// Invariant 3: the cluster agrees with itself and with what was acknowledged within five seconds of the last fault,
    /// polled until then. The operations under way when it struck are part of that: answered later, they would change
    /// what the cluster holds after the deadline.
    /// </summary>
    private async Task CheckConvergenceAsync(FaultWindow last)
    {
        var deadline = ChaosClock.After(last.Start, ConvergenceWait);
        var answered = Interlocked.Read(ref _lastAnswer);
        if (answered > deadline)
        {
            Violation(
                $"an operation under way when the last fault struck ({last}) was answered only at {ChaosClock.At(answered)} " +
                $"(slowest answers: {SlowestAnswers()})",
                last.Start);
        }

        var polls = 0;
        List<string> problems;
        while (true)
        {
            polls++;
            problems = await InconsistenciesAsync();
            if (problems.Count == 0 || ChaosClock.Now > deadline)
            {
                break;
            }

            await Task.Delay(200);
        }

        foreach (var problem in problems)
        {
            Violation($"not converged {ConvergenceWait.TotalSeconds}s after the last fault ({last}): {problem}", last.Start);
        }

        Log(problems.Count == 0
            ? $"converged {(ChaosClock.Now - last.Start) / (double)System.Diagnostics.Stopwatch.Frequency:F2}s after the last fault (poll {polls})"
            : $"{problems.Count} inconsistencies left");
    }

    private async Task<List<string>> InconsistenciesAsync()
    {
        var problems = new List<string>();
        List<ChaosGateway> gateways;
        List<ChaosClient> clients;
        lock (_model)
        {
            gateways = [.. _gateways];
            clients = [.. _clients];
        }

        var sockets = new Dictionary<string, (ChaosGateway Gateway, Socket Socket)>(StringComparer.Ordinal);
        foreach (var gateway in gateways)
        {
            foreach (var (id, socket) in gateway.Io.Sockets.Sockets)
            {
                sockets[id] = (gateway, socket);
            }
        }

        foreach (var client in clients)
        {
            if (!sockets.TryGetValue(client.Id, out var found))
            {
                problems.Add($"live client {client} has no socket on its gateway");
            }
            else if (found.Gateway != client.Gateway)
            {
                problems.Add($"live client {client} has its socket on {found.Gateway}");
            }

            if (client.Client.Closed.IsCompleted)
            {
                problems.Add($"the connection of live client {client} was closed by the server");
            }
        }

        var liveIds = clients.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var (id, (gateway, _)) in sockets)
        {
            if (!liveIds.Contains(id))
            {
                problems.Add($"{gateway} still has socket {id}, whose client left");
            }
        }

        var adapter = gateways[0].Io.Sockets.Adapter;
        var tables = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var universe = Universe();
        foreach (var client in clients)
        {
            if (!sockets.TryGetValue(client.Id, out var found))
            {
                continue;
            }

            var rooms = found.Socket.Rooms;
            tables[client.Id] = [.. rooms];
            universe.UnionWith(rooms);
            var table = rooms.Where(r => r != client.Id).ToHashSet(StringComparer.Ordinal);
            try
            {
                var session = (await adapter.GetSocketRoomsAsync(client.Id)).Where(r => r != client.Id).ToHashSet(StringComparer.Ordinal);
                if (!session.SetEquals(table))
                {
                    problems.Add(
                        $"{client}: its gateway's table has [{string.Join(",", table.Order())}], its session [{string.Join(",", session.Order())}] " +
                        $"(the gateway has it on {found.Socket.SessionSilo})");
                }
            }
            catch (Exception ex)
            {
                problems.Add($"{client}: its session's rooms could not be read: {Describe(ex)}");
            }

            lock (_model)
            {
                foreach (var room in client.Rooms.Keys.Concat(RoomNames).Distinct())
                {
                    var known = client.History(room).Current;
                    if (known != Membership.Unknown && (known == Membership.In) != table.Contains(room))
                    {
                        problems.Add($"{client}: acknowledged {known} of {room}, its gateway's table says {(table.Contains(room) ? "In" : "Out")} ({client.History(room)})");
                    }
                }
            }
        }

        // In parallel: a long run has used thousands of rooms named by socket ids, and all of them are read within the 5 s.
        await Parallel.ForEachAsync(universe, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (room, _) =>
        {
            var expected = tables.Where(t => t.Value.Contains(room)).Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
            string? problem = null;
            try
            {
                var members = (await adapter.GetRoomMembersAsync(room)).ToHashSet(StringComparer.Ordinal);
                if (!members.SetEquals(expected))
                {
                    problem =
                        $"room grain {room} lacks [{string.Join(",", expected.Except(members))}] " +
                        $"and names [{string.Join(",", members.Except(expected).Select(id => liveIds.Contains(id) ? id : id + " (gone)"))}] it should not";
                }
            }
            catch (Exception ex)
            {
                problem = $"room grain {room} could not be read: {Describe(ex)}";
            }

            if (problem is not null)
            {
                lock (problems)
                {
                    problems.Add(problem);
                }
            }
        });

        try
        {
            var ids = (await adapter.GetSocketIdsAsync()).ToHashSet(StringComparer.Ordinal);
            if (!ids.SetEquals(sockets.Keys))
            {
                problems.Add($"the sessions list [{string.Join(",", ids.Except(sockets.Keys))}] that no gateway has, and miss [{string.Join(",", sockets.Keys.Except(ids))}]");
            }
        }
        catch (Exception ex)
        {
            problems.Add($"the socket ids could not be read: {Describe(ex)}");
        }

        return problems;
    }

    /// <summary>Invariant 3, the end of it: a broadcast to each room from a random gateway reaches exactly the room's members, once.</summary>
    private async Task CheckFinalBroadcastAsync()
    {
        var random = new Random(settings.Seed);
        List<ChaosGateway> gateways;
        List<ChaosClient> clients;
        lock (_model)
        {
            gateways = [.. _gateways];
            clients = [.. _clients];
        }

        var members = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var client in clients)
        {
            if (client.Gateway.Io.Sockets.Sockets.TryGetValue(client.Id, out var socket))
            {
                members[client.Id] = socket.Rooms.ToHashSet(StringComparer.Ordinal);
            }
        }

        var universe = Universe();
        universe.UnionWith(members.Values.SelectMany(r => r));
        var start = ChaosClock.Now;
        foreach (var room in universe)
        {
            await gateways[random.Next(gateways.Count)].Io.To(room).EmitAsync("final", room);
        }

        // Sent after every final broadcast was taken by every gateway: on each connection it comes after them.
        await gateways[0].Io.EmitAsync("end");
        foreach (var client in clients)
        {
            try
            {
                await client.End.WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (TimeoutException)
            {
                Violation($"{client} did not get the final broadcast to every socket", start);
                continue;
            }

            var finals = client.Finals();
            var rooms = members.GetValueOrDefault(client.Id) ?? [];
            foreach (var room in universe)
            {
                var expected = rooms.Contains(room) ? 1 : 0;
                if (finals.GetValueOrDefault(room) != expected)
                {
                    Violation($"the final broadcast to {room} reached {client} {finals.GetValueOrDefault(room)} time(s), expected {expected}", start);
                }
            }

            if (client.Unexpected() is { Count: > 0 } unexpected)
            {
                Violation($"{client} received events that are none of the run's: {string.Join(", ", unexpected)}", start);
            }
        }
    }

    // Every room the run used: the named ones and those named by a socket's id.
    private HashSet<string> Universe()
    {
        lock (_model)
        {
            return [.. RoomNames, .. _idRooms];
        }
    }

    // ---- Bookkeeping ----

    private List<string> Report()
    {
        var violations = _violations.ToArray();
        if (violations.Length == 0)
        {
            return [];
        }

        var first = violations.Min(v => v.At);
        var lines = new List<string> { $"{violations.Length} broken invariant(s) with {settings}" };
        lines.AddRange(violations.OrderBy(v => v.At).Take(MaxReported).Select(v => v.What));
        if (violations.Length > MaxReported)
        {
            lines.Add($"... and {violations.Length - MaxReported} more");
        }

        lock (_model)
        {
            lines.Add("faults: " + string.Join("; ", _faults));
        }

        lines.Add($"what the silos logged from 10 s before the first broken invariant to 6 s after it ({_warnings.Count} entries in all):");
        lines.AddRange(_warnings.Between(ChaosClock.After(first, TimeSpan.FromSeconds(-10)), ChaosClock.After(first, TimeSpan.FromSeconds(6)), 150));
        return lines;
    }

    private void Answered(long at)
    {
        long last;
        while ((last = Interlocked.Read(ref _lastAnswer)) < at && Interlocked.CompareExchange(ref _lastAnswer, at, last) != last)
        {
        }
    }

    private void Violation(string what, long? at = null)
    {
        var when = at ?? ChaosClock.Now;
        _violations.Enqueue((when, $"[{ChaosClock.At(when)}] {what}"));
    }

    private void Count(string what) => _counts.AddOrUpdate(what, 1, static (_, n) => n + 1);

    private string SlowestAnswers() => string.Join(", ", _slowest.OrderBy(s => s.Key).Select(s =>
        $"{s.Key} {s.Value.Ticks / (double)System.Diagnostics.Stopwatch.Frequency:F2}s (from {ChaosClock.At(s.Value.At)})"));

    // Invariant 1, with no fault in progress: an answer comes well within the retry bound (nothing has to be waited out).
    private void Took(string what, long start, long end, string detail)
    {
        _slowest.AddOrUpdate(what, (end - start, start), (_, slowest) => end - start > slowest.Ticks ? (end - start, start) : slowest);
        if (end > ChaosClock.After(start, QuietAnswerWait) && !InFault(start, end))
        {
            Violation($"{detail} was answered after {(end - start) / (double)System.Diagnostics.Stopwatch.Frequency:F1}s with no fault in progress", start);
        }
    }

    private void Log(string line) => output($"[{ChaosClock.At(ChaosClock.Now)}] {line}");

    private static string Describe(Exception ex) => ex is JsonException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
}
