using System.Collections.Immutable;
using Orleans.Metadata;
using OrleansRooms.Grains.Gateways;

namespace OrleansRooms.Grains.Routing;

/// <summary>
/// The live gateways of the cluster, as this silo sees them: the silos whose grain manifest has the gateway grain (only
/// gateways implement it, so grain-only silos are left out) and that membership says are active. A gateway declared
/// dead leaves the list with the membership update that says so, and routing stops addressing it at once. Recomputed
/// only when the membership or the manifest changed, so reading it costs two version checks.
/// </summary>
internal sealed class GatewayDirectory(IClusterMembershipService membership, IClusterManifestProvider manifests)
{
    private static readonly GrainType GatewayGrainType = GrainType.Create(IGatewayGrain.GrainTypeName);

    private volatile View _view = new(default, default, [], []);

    /// <summary>Every live gateway this silo knows to be one.</summary>
    public ImmutableArray<SiloAddress> Gateways => Current().Gateways;

    /// <summary>
    /// Every live silo that may be a gateway: the known gateways, and the active silos whose grain manifest this silo has
    /// not received yet (one that just joined, or every other one while this silo is starting). Messages go to them all:
    /// leaving out a gateway would lose its sockets' messages, and a grain-only silo refuses the call at once.
    /// </summary>
    public ImmutableArray<SiloAddress> Candidates => Current().Candidates;

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
        var candidates = ImmutableArray.CreateBuilder<SiloAddress>();
        foreach (var (silo, member) in snapshot.Members)
        {
            if (member.Status != SiloStatus.Active)
            {
                continue;
            }

            if (!manifest.Silos.TryGetValue(silo, out var grains))
            {
                candidates.Add(silo);
            }
            else if (grains.Grains.ContainsKey(GatewayGrainType))
            {
                gateways.Add(silo);
                candidates.Add(silo);
            }
        }

        view = new View(snapshot.Version, manifest.Version, gateways.ToImmutable(), candidates.ToImmutable());
        _view = view;
        return view;
    }

    private sealed record View(
        MembershipVersion Membership,
        MajorMinorVersion Manifest,
        ImmutableArray<SiloAddress> Gateways,
        ImmutableArray<SiloAddress> Candidates);
}
