using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;

namespace Orleans.Hosting;

/// <summary>
/// Orleans membership settings for OrleansRooms: a dead gateway's sockets must leave their rooms within 5 s, and
/// Orleans' defaults declare a silo dead after about 13 s (measured). Each probe waits <see cref="ProbeTimeout"/>; after
/// <see cref="NumMissedProbesLimit"/> missed probes a silo votes, and two votes declare the silo dead. The price of a
/// short probe timeout is a silo declared dead while it is only stalled (a long GC pause, a starved thread pool) for
/// longer than the limit: it then stops, and its clients reconnect to other gateways. Measured figures: docs/cluster.md.
/// </summary>
public static class OrleansRoomsMembership
{
    /// <summary>How long a probe may take before it counts as missed. Orleans' default: 5 s. Here: 1 s.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Missed probes before a silo suspects another. Orleans' default: 3. Here: 2.</summary>
    public const int NumMissedProbesLimit = 2;

    /// <summary>Sets the OrleansRooms defaults, then binds <paramref name="overrides"/> (<c>Orleans:Membership</c>) over them.</summary>
    internal static void Configure(IServiceCollection services, IConfigurationSection overrides)
    {
        services.Configure<ClusterMembershipOptions>(options =>
        {
            options.ProbeTimeout = ProbeTimeout;
            options.NumMissedProbesLimit = NumMissedProbesLimit;
            overrides.Bind(options);
        });
    }
}
