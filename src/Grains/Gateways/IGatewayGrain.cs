using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace OrleansRooms.Grains.Gateways;

/// <summary>
/// A gateway's stream consumer for the <see cref="GatewayDeliveryMode.Streams"/> mode (key: its silo address): placed
/// on that gateway's silo, it takes the broadcasts published on the gateway's stream (implicit subscription, so nothing
/// is re-subscribed when a silo restarts). Implemented by the gateway, so only gateway silos have it in their grain
/// manifest: that is also how the cluster tells gateways from grain-only silos (<see cref="Routing.GatewayDirectory"/>).
/// </summary>
internal interface IGatewayGrain : IGrainWithStringKey
{
    /// <summary>The stream namespace of the gateways' streams, keyed like the gateway grains.</summary>
    public const string StreamNamespace = "orleansrooms-gateway";

    /// <summary>The grain type of the gateway grain.</summary>
    public const string GrainTypeName = "orleansrooms-gateway";
}

/// <summary>Places a grain keyed by a gateway's silo address on that silo, and nowhere else.</summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.gateway-placement")]
public sealed class GatewayPlacement : PlacementStrategy
{
}

/// <summary>Places the grain on the silo its key names (a gateway's stream consumer lives with the gateway).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class GatewayPlacementAttribute() : PlacementAttribute(new GatewayPlacement())
{
}

/// <summary>
/// Places a gateway-keyed grain on the gateway's own silo. A gateway that left the cluster has no silo to place it on:
/// the call fails at once instead of waking a grain elsewhere (senders address only live gateways, so this is rare).
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
