using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrleansRooms.Silo.Grains;

namespace OrleansRooms.Silo.Hosting;

/// <summary>
/// <c>orleansrooms-cluster</c>: Healthy while Redis is reachable and the lease is renewed; Degraded while Redis is
/// unreachable or the gateway's state still has to be re-published (local delivery keeps working meanwhile).
/// </summary>
internal sealed class RedisClusterHealthCheck(RedisRoomGrainFactory gateway) : IHealthCheck
{
    public const string Name = "orleansrooms-cluster";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Check(gateway));

    internal static HealthCheckResult Check(RedisRoomGrainFactory gateway)
    {
        var data = new Dictionary<string, object> { ["gateway"] = gateway.GatewayId };
        if (!gateway.IsRunning)
        {
            return new HealthCheckResult(HealthStatus.Degraded, "The Redis cluster engine is not running (not started yet, or stopped).", data: data);
        }

        var lease = gateway.Lease;
        if (!gateway.Client.IsConnected)
        {
            return new HealthCheckResult(HealthStatus.Degraded,
                $"Redis is unreachable (reconnecting){(lease.LastError is { } error ? ": " + error : "")}. Local delivery works; cluster calls fail.", data: data);
        }

        if (lease.RecoveryPending)
        {
            return new HealthCheckResult(HealthStatus.Degraded, "Redis is back; this gateway's state is being re-published.", data: data);
        }

        if (lease.SinceLastHeartbeat is not { } since || since > gateway.Options.LeaseDuration)
        {
            return new HealthCheckResult(HealthStatus.Degraded,
                $"The lease has not been renewed within {gateway.Options.LeaseDuration.TotalSeconds:0.###} s{(lease.LastError is { } error ? ": " + error : "")}.", data: data);
        }

        return HealthCheckResult.Healthy($"Connected to {(gateway.Client.IsCluster ? "a Redis Cluster" : "Redis")}; lease renewed {since.TotalMilliseconds:0} ms ago.", data);
    }
}
