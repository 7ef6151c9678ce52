using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using OrleansRooms.Grains.Gateways;
using OrleansRooms.Grains.Naming;
using OrleansRooms.Grains.Recovery;
using OrleansRooms.Grains.Rooms;
using OrleansRooms.Grains.Routing;
using OrleansRooms.Grains.Sessions;
using OrleansRooms.Grains.Silos;

namespace OrleansRooms.Cluster;

/// <summary>
/// This gateway's place in the Orleans cluster: its co-hosted silo (whose address is the gateway's identity), the
/// grains and services it calls, and the router that sends messages to the other gateways.
/// </summary>
internal sealed class GatewayCluster(
    ILocalSiloDetails silo,
    IGrainFactory grains,
    ClusterRouter router,
    ClusterRetry retry,
    SiloServices silos,
    GatewayServices gateways,
    IClusterMembershipService membership,
    RecoveryLogs recovery,
    SequencedBroadcasts sequenced,
    TimeProvider time,
    ILogger<GatewayCluster> logger)
{
    private static readonly TimeSpan LongestEndPause = TimeSpan.FromSeconds(30);
    private SessionClient? _sessions;

    /// <summary>This gateway: the address of its silo.</summary>
    public SiloAddress Self { get; } = silo.SiloAddress;

    public IGrainFactory Grains { get; } = grains;

    public ClusterRouter Router { get; } = router;

    public ClusterRetry Retry { get; } = retry;

    public IClusterMembershipService Membership { get; } = membership;

    /// <summary>This silo's logs of sequenced broadcasts (connection state recovery).</summary>
    public RecoveryLogs Recovery { get; } = recovery;

    /// <summary>Sends sequenced broadcasts to the other silos.</summary>
    public SequencedBroadcasts Sequenced { get; } = sequenced;

    /// <summary>
    /// True once the gateway was stopped ungracefully (its host's stop was already cancelled): like a crashed process it
    /// writes nothing more to the cluster, and the cluster releases its sockets when membership declares it dead.
    /// </summary>
    public bool IsDetached { get; private set; }

    public void Detach() => IsDetached = true;

    /// <summary>The calls to this gateway's sockets' sessions.</summary>
    public SessionClient Sessions => _sessions ??= new SessionClient(this);

    /// <summary>
    /// Restores the session of a socket that turned out to live on a silo already declared dead: the call that placed
    /// it was answered as that silo died, after the restorer had looked for the sessions it held. Set by the restorer.
    /// </summary>
    internal Action<Socket>? SessionLost { get; set; }

    /// <summary>The inbox of another gateway.</summary>
    public IGatewayService Gateway(SiloAddress gateway) => gateways.On(gateway);

    public ISocketGrain Session(string ns, string id) => Grains.GetGrain<ISocketGrain>(GrainKeys.Of(ns, id));

    /// <summary>The grain holding the members of <paramref name="room"/> (a socket's grain for its own room).</summary>
    public IRoomMembers Room(string ns, string room) => RoomGrains.Of(Grains, ns, room);

    /// <summary>The silos that may hold sessions: every silo still in the cluster.</summary>
    public ImmutableArray<SiloAddress> LiveSilos()
    {
        var live = ImmutableArray.CreateBuilder<SiloAddress>();
        foreach (var (address, member) in Membership.CurrentSnapshot.Members)
        {
            if (member.Status is SiloStatus.Active or SiloStatus.ShuttingDown or SiloStatus.Stopping)
            {
                live.Add(address);
            }
        }

        return live.ToImmutable();
    }

    /// <summary>The endpoint of a silo.</summary>
    public ISiloService Silo(SiloAddress silo) => silos.On(silo);

    /// <summary>
    /// The session of a closed socket could not be ended now (the cluster is changing): keeps ending it in the background,
    /// with growing pauses, until it is. A room must not keep a member that is gone; if this gateway dies first, the
    /// rooms drop its members themselves.
    /// </summary>
    public void EndLater(Socket socket, ImmutableArray<string> rooms, Exception failure)
    {
        ClusterLog.EndDelayed(logger, socket.Id, failure);
        _ = EndAsync(socket, rooms);
    }

    private async Task EndAsync(Socket socket, ImmutableArray<string> rooms)
    {
        var pause = TimeSpan.FromSeconds(1);
        while (!IsDetached)
        {
            await Task.Delay(pause, time).ConfigureAwait(false);
            try
            {
                await Sessions.DisconnectAsync(socket, rooms).ConfigureAwait(false);
                socket.Namespace.Presence.Changed(socket.Id, rooms, joined: false, rooms);
                ClusterLog.Ended(logger, socket.Id);
                return;
            }
            catch (Exception)
            {
                pause = pause * 2 > LongestEndPause ? LongestEndPause : pause * 2;
            }
        }
    }
}
