using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Hosting;
using Orleans.TestingHost;
using OrleansRooms.Grains.Gateways;
using OrleansRooms.Specification;

namespace OrleansRooms.TestCluster;

/// <summary>
/// Several gateways in one process on Orleans' <see cref="Orleans.TestingHost.TestCluster"/>: each silo is a gateway
/// host with its own Kestrel endpoint and its co-hosted silo, the silos talk over TCP loopback, and tests add, stop and
/// kill gateways as Orleans' own tests do with silos. Membership is the test cluster's own, held by the first gateway (tests
/// stop and kill the others), or a real redis-server (<see cref="RedisMembership"/>).
/// </summary>
public sealed class OrleansGatewayCluster : IGatewayCluster
{
    private readonly List<GatewayNode> _gateways = [];
    private readonly ClusterCounters _counters = new();
    private readonly Dictionary<GatewayNode, SiloHandle> _silos = [];
    private readonly short _initialGateways;
    private Orleans.TestingHost.TestCluster? _cluster;

    public OrleansGatewayCluster(int gateways = 3, GatewayDeliveryMode delivery = GatewayDeliveryMode.DirectCall)
    {
        _initialGateways = (short)gateways;
        Delivery = delivery;
    }

    public GatewayDeliveryMode Delivery { get; }

    /// <summary>
    /// A redis-server holding the Orleans membership table (as a production cluster would), instead of the test
    /// cluster's own membership on the first gateway; then any gateway may be stopped or killed.
    /// </summary>
    public RedisServer? RedisMembership { get; init; }

    /// <summary>Membership settings (keys of <c>Orleans:Membership</c>) over the shipped ones.</summary>
    public IReadOnlyDictionary<string, string> Membership { get; init; } = new Dictionary<string, string>();

    /// <summary>Whether the silos apply <see cref="Faults"/> (and count calls for it); off, the calls pay nothing for it.</summary>
    public bool FaultInjection { get; init; }

    /// <summary>How long writes to the grains are retried before they fail to the caller (<c>SocketIO:Cluster:RetryTimeout</c>); null: the default.</summary>
    public TimeSpan? RetryTimeout { get; init; }

    /// <summary>How long cluster requests wait for other gateways' answers (<see cref="SocketIOOptions.ClusterRequestTimeout"/>).</summary>
    public TimeSpan ClusterRequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The Redis whose official-emitter channels the gateways listen to (<c>SocketIO:Emitter:Redis</c>, a StackExchange.Redis
    /// configuration string); null, the default, leaves them unheard.
    /// </summary>
    public string? EmitterRedis { get; init; }

    public IReadOnlyList<GatewayNode> Gateways => _gateways;

    /// <summary>The Orleans cluster (its client reaches the grains as an outside process would).</summary>
    public Orleans.TestingHost.TestCluster Orleans => _cluster ?? throw new InvalidOperationException("Not started.");

    public async Task StartAsync()
    {
        var builder = new TestClusterBuilder(_initialGateways);
        builder.Options.ConnectionTransport = ConnectionTransportType.TcpSocket;
        builder.Options.ConfigureFileLogging = false;
        builder.Properties["SocketIO:Cluster:Delivery"] = Delivery.ToString();
        builder.Properties["SocketIO:ClusterRequestTimeout"] = ClusterRequestTimeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        if (FaultInjection)
        {
            builder.Properties[GatewayHostConfigurator.FaultsKey] = "true";
        }

        if (RetryTimeout is { } retry)
        {
            builder.Properties["SocketIO:Cluster:RetryTimeout"] = retry.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        }

        foreach (var (key, value) in Membership)
        {
            builder.Properties["Orleans:Membership:" + key] = value;
        }

        if (RedisMembership is not null)
        {
            builder.Options.UseTestClusterMembership = false;
            builder.Properties[GatewayHostConfigurator.RedisMembershipKey] = RedisMembership.ConnectionString;
            builder.AddClientBuilderConfigurator<RedisMembershipClientConfigurator>();
        }

        if (EmitterRedis is not null)
        {
            builder.Properties["SocketIO:Emitter:Redis"] = EmitterRedis;
        }

        builder.AddSiloBuilderConfigurator<GatewayHostConfigurator>();
        _cluster = builder.Build();
        await _cluster.DeployAsync();
        foreach (var silo in _cluster.Silos)
        {
            Track(silo);
        }
    }

    /// <summary>Starts one more gateway and returns it once it is part of the cluster.</summary>
    public async Task<GatewayNode> AddGatewayAsync()
    {
        var silo = await Orleans.StartAdditionalSiloAsync();
        await Orleans.WaitForClusterManifestToStabilizeAsync();
        return Track(silo);
    }

    /// <summary>Stops a gateway cleanly: its sessions close, its sockets leave their rooms, then its silo leaves.</summary>
    public async Task StopGatewayAsync(GatewayNode gateway)
    {
        var silo = Untrack(gateway);
        await Orleans.StopSiloAsync(silo);
    }

    /// <summary>
    /// Kills a gateway: an ungraceful stop, as a crash. It writes nothing to the cluster on its way out and its silo
    /// says no goodbye: the others must find it dead through Orleans membership and release its sockets.
    /// </summary>
    public async Task KillGatewayAsync(GatewayNode gateway)
    {
        var silo = Untrack(gateway);
        await Orleans.KillSiloAsync(silo);
    }

    /// <summary>The silo address of a gateway, its identity in the cluster.</summary>
    public SiloAddress SiloOf(GatewayNode gateway) => _silos[gateway].SiloAddress;

    public async ValueTask DisposeAsync()
    {
        _counters.Dispose();
        _gateways.Clear();
        _silos.Clear();
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    private GatewayNode Track(SiloHandle silo)
    {
        var host = ((InProcessSiloHandle)silo).SiloHost;
        var addresses = host.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        // The node's lifetime is the cluster's: stopping it is StopGatewayAsync or KillGatewayAsync.
        var node = new GatewayNode(host.Services, new Uri(addresses.First()), () => ValueTask.CompletedTask);
        _counters.Watch(host.Services.GetRequiredService<OrleansRooms.Hosting.GatewayMetrics>().Meter);
        _gateways.Add(node);
        _silos[node] = silo;
        return node;
    }

    private SiloHandle Untrack(GatewayNode gateway)
    {
        if (!_silos.Remove(gateway, out var silo))
        {
            throw new ArgumentException("Not a gateway of this cluster.", nameof(gateway));
        }

        if (RedisMembership is null && ReferenceEquals(gateway, _gateways[0]))
        {
            throw new InvalidOperationException("The first gateway holds the test cluster's membership table; stop or kill another.");
        }

        _gateways.Remove(gateway);
        return silo;
    }
}

/// <summary>Makes each silo of the test cluster a gateway: Kestrel on a free loopback port, Socket.IO, the OrleansRooms grains.</summary>
public sealed class GatewayHostConfigurator : IHostConfigurator, ISiloConfigurator
{
    /// <summary>The configuration key that puts <see cref="Faults"/> on every silo's grain calls.</summary>
    public const string FaultsKey = "OrleansRooms:Test:Faults";

    /// <summary>The configuration key of a Redis connection string for the membership table (absent: the test cluster's own).</summary>
    public const string RedisMembershipKey = "OrleansRooms:Test:RedisMembership";

    public void Configure(IHostBuilder hostBuilder)
    {
        hostBuilder.ConfigureWebHost(web =>
        {
            web.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
            web.ConfigureServices(services => services.AddRouting());
            web.Configure(app =>
            {
                app.UseRouting();
                app.UseEndpoints(endpoints => endpoints.MapSocketIO());
            });
        });
        hostBuilder.ConfigureServices(services => services.AddSocketIO());
    }

    public void Configure(ISiloBuilder siloBuilder)
    {
        if (siloBuilder.Configuration[RedisMembershipKey] is { Length: > 0 } redis)
        {
            siloBuilder.UseRedisClustering(redis);
        }

        siloBuilder.AddOrleansRooms();
        if (siloBuilder.Configuration.GetValue(FaultsKey, false))
        {
            siloBuilder.Services.AddSingleton<IIncomingGrainCallFilter, FaultFilter>();
        }
    }
}

/// <summary>The test cluster's own Orleans client finds the gateways in the Redis membership table.</summary>
public sealed class RedisMembershipClientConfigurator : IClientBuilderConfigurator
{
    public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
        clientBuilder.UseRedisClustering(configuration[GatewayHostConfigurator.RedisMembershipKey]!);
}
