using System.Collections.Immutable;
using Orleans.Metadata;
using OrleansRooms.Grains.Gateways;

namespace OrleansRooms.Grains.Routing;

/// <summary>
/// The live gateways of the cluster, as this silo sees them: the silos whose grain manifest has the gateway grain (only
/// gateways implement it, so grain-only silos are left out) and that membership says are active. Recomputed only when
/// the membership or the manifest changed, so reading it costs two version checks.
/// </summary>
internal sealed class GatewayDirectory(IClusterMembershipService membership, IClusterManifestProvider manifests)
{
    private static readonly GrainType GatewayGrainType = GrainType.Create(IGatewayGrain.GrainTypeName);

    private volatile View _view = new(default, default, [], ImmutableDictionary<int, SiloAddress>.Empty);

    /// <summary>Every live gateway.</summary>
    public ImmutableArray<SiloAddress> Gateways => Current().Gateways;

    /// <summary>Whether <paramref name="silo"/> is a live gateway.</summary>
    public bool IsGateway(SiloAddress silo) => Current().Gateways.Contains(silo);

    /// <summary>
    /// The live gateway whose socket ids carry the tag of <paramref name="socketId"/>, if any: where the socket of that
    /// id is connected, if it is one. A room name that merely looks like a socket id costs one wasted message at most.
    /// </summary>
    public SiloAddress? FindHost(string socketId) =>
        SocketIds.TryGetTag(socketId, out var tag) && Current().ByTag.TryGetValue(tag, out var gateway) ? gateway : null;

    private View Current()
    {
        var view = _view;
        var snapshot = membership.CurrentSnapshot;
        var manifest = manifests.Current;
        if (view.Membership == snapshot.Version && view.Manifest == manifest.Version)
        {
            return view;
        }

        var gateways = ImmutableArray.CreateBuilder<SiloAddress>();
        var byTag = ImmutableDictionary.CreateBuilder<int, SiloAddress>();
        foreach (var (silo, grains) in manifest.Silos)
        {
            if (grains.Grains.ContainsKey(GatewayGrainType) && snapshot.GetSiloStatus(silo) == SiloStatus.Active)
            {
                gateways.Add(silo);
                byTag[SocketIds.TagOf(silo)] = silo;
            }
        }

        view = new View(snapshot.Version, manifest.Version, gateways.ToImmutable(), byTag.ToImmutable());
        _view = view;
        return view;
    }

    private sealed record View(MembershipVersion Membership, MajorMinorVersion Manifest, ImmutableArray<SiloAddress> Gateways, ImmutableDictionary<int, SiloAddress> ByTag);
}
