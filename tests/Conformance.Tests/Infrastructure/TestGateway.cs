using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

using OrleansRooms.Specification;

namespace OrleansRooms.Conformance.Infrastructure;

/// <summary>A gateway started in-process on a loopback port, with the server behaviour a test defines.</summary>
internal sealed class TestGateway : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestGateway(WebApplication app, Uri url, SocketIOServer io)
    {
        _app = app;
        Url = url;
        Io = io;
    }

    /// <summary>The base address, such as <c>http://127.0.0.1:41234</c>.</summary>
    public Uri Url { get; }

    public SocketIOServer Io { get; }

    /// <summary>The gateway's services.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a gateway on a free port (or on <paramref name="port"/>) and configures its server.</summary>
    public static async Task<TestGateway> StartAsync(
        Action<SocketIOServer> configure,
        Action<SocketIOOptions>? options = null,
        int port = 0,
        Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.UseTestSilo();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        // A test that restarts the gateway should not wait for connections to drain.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.Services.AddSocketIO(options);
        services?.Invoke(builder.Services);

        var app = builder.Build();
        app.MapSocketIO("/socket.io", configure);
        await app.StartAsync();

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new TestGateway(app, new Uri(address), app.Services.GetRequiredService<SocketIOServer>());
    }

    /// <summary>Stops the gateway, as a server restart or crash does to its clients.</summary>
    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
