using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace OrleansRooms.Cluster;

/// <summary>
/// Health check <c>orleansrooms-cluster</c>: healthy while this gateway's silo is an active member of the cluster.
/// Joining, shutting down, or declared dead by the others (its sockets are then being released elsewhere), it is
/// unhealthy, so a load balancer stops sending it clients.
/// </summary>
internal sealed class ClusterHealthCheck(IClusterMembershipService membership, GatewayCluster cluster) : IHealthCheck
{
    public const string Name = "orleansrooms-cluster";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(cluster.Self);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"Silo {cluster.Self} is active.")
            : HealthCheckResult.Unhealthy($"Silo {cluster.Self} is {status}."));
    }
}
