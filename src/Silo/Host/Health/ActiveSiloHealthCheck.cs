using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace OrleansRooms.Silo.Host.Health;

/// <summary>
/// Healthy while Orleans membership lists this silo as active. A silo that is joining, shutting down or was declared
/// dead (it then stops itself) holds no grains the cluster can use, so load balancers and probes should not count it.
/// </summary>
internal sealed class ActiveSiloHealthCheck(ILocalSiloDetails silo, IClusterMembershipService membership) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"Silo {silo.SiloAddress} is {status} in the cluster's membership."));
    }
}
