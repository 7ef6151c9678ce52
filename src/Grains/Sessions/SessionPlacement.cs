using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace OrleansRooms.Grains.Sessions;

/// <summary>Places a socket's session on a silo other than the one that creates it (its gateway's).</summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.session-placement")]
public sealed class SessionPlacement : PlacementStrategy
{
}

/// <summary>Places the grain away from the silo that first calls it: a session survives its gateway.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SessionPlacementAttribute() : PlacementAttribute(new SessionPlacement())
{
}

/// <summary>
/// Picks, among the compatible silos other than the calling one (placement runs where the first call starts: a
/// gateway connecting its socket), the one the grain's key hashes to. With no other silo (a lone gateway) the session
/// stays with its gateway: there is nothing it could outlive it on.
/// </summary>
internal sealed class SessionPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var caller = context.LocalSilo;
        var compatible = context.GetCompatibleSilos(target);

        // A session moved on purpose (its silo is stopping, or it was with its gateway) goes where it is sent.
        if (IPlacementDirector.GetPlacementHint(target.RequestContextData, compatible) is { } hint)
        {
            return Task.FromResult(hint);
        }

        var others = 0;
        foreach (var silo in compatible)
        {
            if (!silo.Equals(caller))
            {
                others++;
            }
        }

        if (others == 0)
        {
            return Task.FromResult(Array.IndexOf(compatible, caller) >= 0 || compatible.Length == 0 ? caller : compatible[0]);
        }

        // Sorted so the choice depends on the key and the silos only.
        var candidates = new SiloAddress[others];
        var n = 0;
        foreach (var silo in compatible)
        {
            if (!silo.Equals(caller))
            {
                candidates[n++] = silo;
            }
        }

        Array.Sort(candidates, static (a, b) => a.CompareTo(b));
        var index = (int)(target.GrainIdentity.GetUniformHashCode() % (uint)candidates.Length);
        return Task.FromResult(candidates[index]);
    }
}
