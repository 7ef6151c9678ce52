using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OrleansRooms.Specification;

/// <summary>One or more gateways that, to clients and to application code, must behave as one Socket.IO server.</summary>
public interface IGatewayCluster : IAsyncDisposable
{
    IReadOnlyList<GatewayNode> Gateways { get; }

    Task StartAsync();
}

/// <summary>A gateway listening on a loopback port with its co-hosted silo, and its <see cref="SocketIOServer"/>.</summary>
public sealed class GatewayNode : IAsyncDisposable
{
    private readonly Func<ValueTask> _dispose;

    public GatewayNode(IServiceProvider services, Uri url, Func<ValueTask> dispose)
    {
        Services = services;
        Url = url;
        Io = services.GetRequiredService<SocketIOServer>();
        _dispose = dispose;
    }

    public Uri Url { get; }

    public SocketIOServer Io { get; }

    public IServiceProvider Services { get; }

    /// <summary>Starts a gateway alone in its cluster (the embedded default) on a free loopback port.</summary>
    public static async Task<GatewayNode> StartAsync(
        Action<IServiceCollection>? configureServices = null,
        Action<SocketIOOptions>? configureOptions = null,
        Action<WebApplication>? configureApp = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.UseTestSilo();
        builder.Services.AddSocketIO(configureOptions);
        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapSocketIO();
        configureApp?.Invoke(app);
        await app.StartAsync();
        var address = app.Urls.First();
        return new GatewayNode(app.Services, new Uri(address), async () =>
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await app.StopAsync(timeout.Token);
            await app.DisposeAsync();
        });
    }

    public ValueTask DisposeAsync() => _dispose();
}

/// <summary>The embedded default: one gateway with its co-hosted silo, alone in its cluster.</summary>
public sealed class SingleGatewayCluster : IGatewayCluster
{
    private readonly List<GatewayNode> _gateways = [];

    public IReadOnlyList<GatewayNode> Gateways => _gateways;

    public async Task StartAsync() => _gateways.Add(await GatewayNode.StartAsync());

    public async ValueTask DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            await gateway.DisposeAsync();
        }
    }
}
