using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace OrleansRooms.Grains.Gateways;

/// <summary>Places a grain keyed by a gateway's silo address on that silo, and nowhere else.</summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.gateway-placement")]
public sealed class GatewayPlacement : PlacementStrategy
{
}

/// <summary>Places the grain on the silo its key names (a gateway's inbox lives with the gateway).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class GatewayPlacementAttribute() : PlacementAttribute(new GatewayPlacement())
{
}

/// <summary>
/// Places a gateway-keyed grain on the gateway's own silo. A gateway that left the cluster has no silo to place it on:
/// the call fails at once, so a sender learns that the gateway is gone instead of waking a grain elsewhere.
/// </summary>
internal sealed class GatewayPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var gateway = SiloAddress.FromParsableString(target.GrainIdentity.Key.ToString()!);
        var compatible = context.GetCompatibleSilos(target);
        if (Array.IndexOf(compatible, gateway) >= 0)
        {
            return Task.FromResult(gateway);
        }

        throw new SiloUnavailableException($"Gateway {gateway} is not an active gateway of the cluster.");
    }
}

/// <summary>Places a gateway-keyed grain on any silo but the gateway's, so it outlives the gateway.</summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.away-from-gateway-placement")]
public sealed class AwayFromGatewayPlacement : PlacementStrategy
{
}

/// <summary>Places the grain on a silo other than the gateway its key names (on the gateway's when it is alone).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class AwayFromGatewayPlacementAttribute() : PlacementAttribute(new AwayFromGatewayPlacement())
{
}

/// <summary>
/// Picks, among the compatible silos other than the gateway's, the one the key hashes to, so the copy of a gateway's
/// sockets survives the gateway. With no other silo (a single gateway) it stays with the gateway: nothing would survive.
/// </summary>
internal sealed class AwayFromGatewayPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var gateway = SiloAddress.FromParsableString(target.GrainIdentity.Key.ToString()!);
        var compatible = context.GetCompatibleSilos(target);
        var others = new List<SiloAddress>(compatible.Length);
        foreach (var silo in compatible)
        {
            if (!silo.Equals(gateway))
            {
                others.Add(silo);
            }
        }

        if (others.Count == 0)
        {
            return Task.FromResult(compatible.Length > 0 ? compatible[0] : context.LocalSilo);
        }

        // Sorted, so every silo placing it computes the same choice.
        others.Sort(static (a, b) => a.CompareTo(b));
        var index = (int)((uint)gateway.GetConsistentHashCode() % (uint)others.Count);
        return Task.FromResult(others[index]);
    }
}
