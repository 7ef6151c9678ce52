using System.Collections.Immutable;
using OrleansRooms.Grains.Gateways;
using OrleansRooms.Grains.Membership;
using OrleansRooms.Grains.Routing;

namespace OrleansRooms.Cluster;

/// <summary>
/// This gateway's place in the Orleans cluster: its co-hosted silo (whose address is the gateway's identity), the
/// grains of the membership relation, and the router that sends messages to the other gateways.
/// </summary>
internal sealed class GatewayCluster(SiloAddress self, IGrainFactory grains, ClusterRouter router)
{
    /// <summary>This gateway: the address of its silo.</summary>
    public SiloAddress Self { get; } = self;

    public IGrainFactory Grains { get; } = grains;

    public ClusterRouter Router { get; } = router;

    /// <summary>
    /// True once the gateway was stopped ungracefully (its host's stop was already cancelled): like a crashed process it
    /// writes nothing more to the cluster, and the other gateways release its sockets when membership declares it dead.
    /// </summary>
    public bool IsDetached { get; private set; }

    public void Detach() => IsDetached = true;

    /// <summary>A new socket id, tagged with this gateway so broadcasts to the socket's own room find it.</summary>
    public string NewSocketId() => SocketIds.New(Self);

    public ISocketGrain Socket(string ns, string id) => Grains.GetGrain<ISocketGrain>(GrainKeys.Of(ns, id));

    public IRoomGrain Room(string ns, string room) => Grains.GetGrain<IRoomGrain>(GrainKeys.Of(ns, room));

    public IGatewaySocketsGrain SocketsOf(SiloAddress gateway) => Grains.GetGrain<IGatewaySocketsGrain>(GrainKeys.Of(gateway));

    /// <summary>The ids of every socket of namespace <paramref name="ns"/>, from the copies the live gateways keep beside them.</summary>
    public Task<ImmutableArray<string>> GetSocketIdsAsync(string ns) => UnionAsync(static (copy, ns) => copy.GetSocketsAsync(ns), ns);

    /// <summary>Every room of namespace <paramref name="ns"/> with a member (sockets' own rooms included), from the same copies.</summary>
    public Task<ImmutableArray<string>> GetRoomNamesAsync(string ns) => UnionAsync(static (copy, ns) => copy.GetRoomNamesAsync(ns), ns);

    private async Task<ImmutableArray<string>> UnionAsync(Func<IGatewaySocketsGrain, string, Task<ImmutableArray<string>>> query, string ns)
    {
        var gateways = Router.Directory.Gateways;
        var lookups = new Task<ImmutableArray<string>>[gateways.Length];
        for (var i = 0; i < lookups.Length; i++)
        {
            lookups[i] = query(SocketsOf(gateways[i]), ns);
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var lookup in lookups)
        {
            names.UnionWith(await lookup.ConfigureAwait(false));
        }

        return [.. names];
    }
}
