using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OrleansRooms.Grains.Hosting;
using OrleansRooms.Grains.Gateways;
using OrleansRooms.Silo.Compatibility;
using OrleansRooms.Silo.Dashboard;

namespace Orleans.Hosting;

/// <summary>Makes an Orleans silo an OrleansRooms silo: a gateway's co-hosted silo, or a grain-only one.</summary>
public static class OrleansRoomsSiloBuilderExtensions
{
    /// <summary>
    /// Adds the OrleansRooms grains and what they need of the silo, from configuration (section <c>SocketIO:Cluster</c>,
    /// <see cref="RoomsClusterOptions"/>; Orleans reads its own section <c>Orleans</c>, with the membership provider in
    /// <c>Orleans:Clustering</c>, such as <c>Redis</c> with a <c>ConnectionString</c>):
    /// <list type="bullet">
    /// <item>Membership tuned so a dead silo is declared dead within about 3 s (<see cref="OrleansRoomsMembership"/>);
    /// <c>Orleans:Membership</c> overrides any of it.</item>
    /// <item>Mutual TLS between silos when <c>Orleans:Tls</c> names a certificate (<see cref="OrleansRoomsTls"/>).</item>
    /// <item>Orleans' distributed grain directory, which keeps every surviving grain when a silo dies, without the
    /// range lease that would keep the dead silo's grains unreachable for 30 s (<see cref="OrleansRoomsDirectory"/>).</item>
    /// <item>With <see cref="GatewayDeliveryMode.Streams"/>, an in-memory stream provider of the configured name, unless
    /// <c>Orleans:Streaming</c> configures one.</item>
    /// <item>With <c>SocketIO:Cluster:Kubernetes</c> true, Orleans' Kubernetes hosting (silo identity from the pod, and
    /// silos whose pod is gone are declared dead at once).</item>
    /// <item>On a gateway, the official <c>@socket.io/redis-emitter</c>'s channels (section <c>SocketIO:Emitter</c>,
    /// <see cref="RedisEmitterOptions"/>): listened to when a Redis is configured there, or when the cluster's
    /// membership is in Redis.</item>
    /// <item>A silo or gateway port another process listens on stops the silo, even when that process is a silo that
    /// shares its port (<see cref="ExclusiveListenerPorts"/>).</item>
    /// <item>With <c>Orleans:Dashboard:Enabled</c> true, the Orleans Dashboard's statistics on this silo
    /// (<see cref="OrleansRoomsDashboardOptions"/>); a host serves the dashboard with <c>MapOrleansRoomsDashboard</c>.</item>
    /// </list>
    /// </summary>
    public static ISiloBuilder AddOrleansRooms(this ISiloBuilder silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        var configuration = silo.Configuration;
        var orleans = configuration.GetSection("Orleans");
        OrleansRoomsMembership.Configure(silo.Services, orleans.GetSection("Membership"));
        OrleansRoomsDirectory.Configure(silo, orleans.GetSection("GrainDirectory"));
        OrleansRoomsTls.Configure(silo, orleans.GetSection(OrleansRoomsTls.SectionName));
        ExclusiveListenerPorts.Configure(silo.Services);
        WatchdogClock.Configure(silo.Services);

        var cluster = new RoomsClusterOptions();
        configuration.GetSection(RoomsClusterOptions.SectionName).Bind(cluster);
        if (cluster.Delivery == GatewayDeliveryMode.Streams && !orleans.GetSection("Streaming").GetSection(cluster.StreamProvider).Exists())
        {
            OrleansRoomsStreams.AddMemoryProvider(silo, cluster.StreamProvider);
        }

        if (configuration.GetValue("SocketIO:Cluster:Kubernetes", false))
        {
            silo.UseKubernetesHosting();
        }

        silo.Services.AddRoomsGrains();
        silo.Services.AddRedisEmitterListener(configuration);
        OrleansRoomsDashboard.Configure(silo, orleans.GetSection("Dashboard"));
        return silo;
    }
}
