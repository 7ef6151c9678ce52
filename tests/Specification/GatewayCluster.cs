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

/// <summary>A gateway listening on a loopback port, and its <see cref="SocketIOServer"/>.</summary>
public sealed class GatewayNode : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GatewayNode(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
        Io = app.Services.GetRequiredService<SocketIOServer>();
    }

    public Uri Url { get; }

    public SocketIOServer Io { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a gateway on a free loopback port; <paramref name="configureServices"/> may replace the grains.</summary>
    public static async Task<GatewayNode> StartAsync(
        Action<IServiceCollection>? configureServices = null,
        Action<SocketIOOptions>? configureOptions = null,
        Action<WebApplication>? configureApp = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSocketIO(configureOptions);
        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapSocketIO();
        configureApp?.Invoke(app);
        await app.StartAsync();
        var address = app.Urls.First();
        return new GatewayNode(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}

/// <summary>The embedded default: one gateway with the in-process grains.</summary>
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
