using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;
using OrleansRooms.Grains.Gateways;
using OrleansRooms.Specification;

namespace OrleansRooms.TestCluster;

/// <summary>
/// Several gateways in one process on Orleans' <see cref="Orleans.TestingHost.TestCluster"/>: each silo is a gateway
/// host with its own Kestrel endpoint and its co-hosted silo, the silos talk over TCP loopback, and tests add, stop and
/// kill gateways as Orleans' own tests do with silos. Membership is the test cluster's own, held by the first gateway (tests
/// stop and kill the others), or a real redis-server (<see cref="RedisMembership"/>). Grain-only silos (the grains and no
/// gateway, as <c>src/Silo/Host</c>) can run beside the gateways (<see cref="AddGrainSiloAsync"/>).
/// </summary>
public sealed class OrleansGatewayCluster : IGatewayCluster
{
    // Grain-only silos are started outside the test cluster's own list of silos, whose highest instance number gives the
    // next gateway its number: theirs start far above it, each on ports of its own.
    private const int FirstGrainSiloInstance = 1000;

    private readonly List<GatewayNode> _gateways = [];
    private readonly List<SiloHandle> _grainSilos = [];
    private readonly ClusterCounters _counters = new();
    private readonly Dictionary<GatewayNode, SiloHandle> _silos = [];
    private readonly short _initialGateways;
    private int _grainSilosStarted;
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

    /// <summary>More configuration for every silo, gateways and grain-only silos alike (such as <c>SocketIO:ConnectionStateRecovery:*</c>).</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<GatewayNode> Gateways => _gateways;

    /// <summary>The running grain-only silos.</summary>
    public IReadOnlyList<SiloHandle> GrainSilos => _grainSilos;

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

        foreach (var (key, value) in Settings)
        {
            builder.Properties[key] = value;
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

    /// <summary>
    /// Starts one more gateway and returns it once it is part of the cluster (with <paramref name="untilKnown"/> false,
    /// as soon as it is active in its own view, when a load balancer would send it clients). It listens on ports of its
    /// own: a gateway added after one was killed is a new process, not the dead one again on its address.
    /// </summary>
    public async Task<GatewayNode> AddGatewayAsync(bool untilKnown = true)
    {
        var silo = await Orleans.StartAdditionalSiloAsync(startAdditionalSiloOnNewPort: true);
        if (untilKnown)
        {
            await Orleans.WaitForClusterManifestToStabilizeAsync();
        }

        return Track(silo);
    }

    /// <summary>
    /// Starts a grain-only silo: the OrleansRooms grains (sessions and rooms are placed on it like on any silo) and no
    /// gateway: no Kestrel, no Socket.IO, and no gateway grain in its manifest, as a <c>src/Silo/Host</c> process.
    /// </summary>
    public async Task<SiloHandle> AddGrainSiloAsync()
    {
        var instance = FirstGrainSiloInstance + Interlocked.Increment(ref _grainSilosStarted);
        var grainOnly = new MemoryConfigurationSource { InitialData = new Dictionary<string, string?> { [GatewayHostConfigurator.GrainOnlyKey] = "true" } };
        var silo = await Orleans.StartSiloAsync(instance, Orleans.Options, [grainOnly], startSiloOnNewPort: true);
        _grainSilos.Add(silo);
        return silo;
    }

    /// <summary>Kills a grain-only silo, as a crash: the others find it dead through membership.</summary>
    public async Task KillGrainSiloAsync(SiloHandle silo)
    {
        if (!_grainSilos.Remove(silo))
        {
            throw new ArgumentException("Not a grain-only silo of this cluster.", nameof(silo));
        }

        await Orleans.KillSiloAsync(silo);
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

        // The test cluster disposes the silos of its own list only.
        foreach (var silo in _grainSilos)
        {
            await silo.DisposeAsync();
        }

        _grainSilos.Clear();
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

/// <summary>
/// Makes each silo of the test cluster a gateway: Kestrel on a free loopback port, Socket.IO, the OrleansRooms grains;
/// or, when its configuration says <see cref="GrainOnlyKey"/>, a grain-only silo with the grains alone.
/// </summary>
public sealed class GatewayHostConfigurator : IHostConfigurator, ISiloConfigurator
{
    /// <summary>The configuration key that puts <see cref="Faults"/> on every silo's grain calls.</summary>
    public const string FaultsKey = "OrleansRooms:Test:Faults";

    /// <summary>The configuration key of a Redis connection string for the membership table (absent: the test cluster's own).</summary>
    public const string RedisMembershipKey = "OrleansRooms:Test:RedisMembership";

    /// <summary>The configuration key that makes a silo grain-only (<c>true</c>).</summary>
    public const string GrainOnlyKey = "OrleansRooms:Test:GrainOnly";

    public void Configure(IHostBuilder hostBuilder)
    {
        // The test cluster hands each silo's configuration to its host builder before the host is built.
        if (hostBuilder.Properties.TryGetValue("Configuration", out var value) && value is IConfiguration configuration && IsGrainOnly(configuration))
        {
            return;
        }

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
        hostBuilder.ConfigureServices((context, services) =>
        {
            services.AddSocketIO();
            if (context.Configuration.GetSection(OrleansRooms.Admin.AdminUIOptions.SectionName).Exists())
            {
                services.AddSocketIOAdminUI();
            }
        });
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

        if (IsGrainOnly(siloBuilder.Configuration))
        {
            // One process loads the gateway's assembly for every silo; a grain-only process never does, so its manifest
            // has no gateway grain, which is how the cluster tells gateways from grain-only silos.
            siloBuilder.Services.PostConfigure<GrainTypeOptions>(options => options.Classes.Remove(typeof(OrleansRooms.Cluster.GatewayGrain)));
        }
    }

    private static bool IsGrainOnly(IConfiguration configuration) => configuration.GetValue(GrainOnlyKey, false);
}

/// <summary>The test cluster's own Orleans client finds the gateways in the Redis membership table.</summary>
public sealed class RedisMembershipClientConfigurator : IClientBuilderConfigurator
{
    public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
        clientBuilder.UseRedisClustering(configuration[GatewayHostConfigurator.RedisMembershipKey]!);
}
