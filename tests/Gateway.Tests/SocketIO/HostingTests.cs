using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrleansRooms.Hosting;
using OrleansRooms.Specification;

namespace OrleansRooms.Tests.SocketIO;

public sealed class HostingTests
{
    [Theory]
    [InlineData(20_000, 19_000)]
    [InlineData(700, 188)] // the reserve never drops under 512
    [InlineData(1_048_576, 1_044_480)] // nor grows over 4,096
    [InlineData(300, 1)]
    public void Connection_limits_keep_a_reserve_of_the_open_file_limit(long openFiles, long connections) =>
        Assert.Equal(connections, KestrelConnectionLimits.MaxConnections(openFiles));

    [Fact]
    public void AddSocketIO_caps_Kestrels_connections_below_the_open_file_limit_unless_the_app_set_them()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.UseTestSilo();
        builder.WebHost.UseKestrel(k => k.Limits.MaxConcurrentConnections = 5);
        builder.Services.AddSocketIO();
        using var app = builder.Build();

        var limits = app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        Assert.Equal(5, limits.MaxConcurrentConnections);
        if (OperatingSystem.IsLinux())
        {
            var openFiles = KestrelConnectionLimits.ReadOpenFileLimit();
            Assert.NotNull(openFiles);
            Assert.Equal(KestrelConnectionLimits.MaxConnections(openFiles.Value), limits.MaxConcurrentUpgradedConnections);
        }
    }

    [Fact]
    public void Options_are_bound_from_the_SocketIO_configuration_section()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.UseTestSilo();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SocketIO:PingInterval"] = "00:00:05",
            ["SocketIO:MaxHttpBufferSize"] = "2048",
            ["SocketIO:Transports"] = "WebSocket",
        });
        builder.Services.AddSocketIO();
        using var app = builder.Build();

        var options = app.Services.GetRequiredService<IOptions<SocketIOOptions>>().Value;

        Assert.Equal(TimeSpan.FromSeconds(5), options.PingInterval);
        Assert.Equal(2048, options.MaxHttpBufferSize);
        Assert.Equal(TimeSpan.FromSeconds(20), options.PingTimeout);
        Assert.Equal(SocketIOTransports.WebSocket, options.Transports);
    }

    [Fact]
    public async Task Invalid_options_stop_the_host_at_start_up()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.UseTestSilo();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Services.AddSocketIO(o => o.MaxHttpBufferSize = 0);
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("MaxHttpBufferSize", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_send_buffer_under_1_KiB_stops_the_host_at_start_up()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.UseTestSilo();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Services.AddSocketIO(o => o.MaxSendBufferSize = 1000);
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("MaxSendBufferSize", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transports_must_name_at_least_one()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.UseTestSilo();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Services.AddSocketIO(o => o.Transports = SocketIOTransports.None);
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Transports", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_endpoint_takes_ASP_NET_Core_CORS_policies()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.UseTestSilo();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Services.AddCors(o => o.AddPolicy("clients", p => p.WithOrigins("https://example.com").AllowCredentials()));
        builder.Services.AddSocketIO();
        await using var app = builder.Build();
        app.UseCors();
        app.MapSocketIO().RequireCors("clients");
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/socket.io/?EIO=4&transport=polling");
        preflight.Headers.Add("Origin", "https://example.com");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        using var preflightResponse = await http.SendAsync(preflight);
        using var handshake = new HttpRequestMessage(HttpMethod.Get, "/socket.io/?EIO=4&transport=polling");
        handshake.Headers.Add("Origin", "https://example.com");
        using var handshakeResponse = await http.SendAsync(handshake);
        using var foreign = new HttpRequestMessage(HttpMethod.Get, "/socket.io/?EIO=4&transport=polling");
        foreign.Headers.Add("Origin", "https://evil.example");
        using var foreignResponse = await http.SendAsync(foreign);

        Assert.Equal("https://example.com", preflightResponse.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("https://example.com", handshakeResponse.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.StartsWith("0{", await handshakeResponse.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(foreignResponse.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public void The_server_is_a_singleton_resolved_from_dependency_injection()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.UseTestSilo();
        builder.Services.AddSocketIO();
        using var app = builder.Build();

        Assert.Same(app.Services.GetRequiredService<SocketIOServer>(), app.Services.GetRequiredService<SocketIOServer>());
        Assert.Equal("/", app.Services.GetRequiredService<SocketIOServer>().Sockets.Name);
    }

    [Fact]
    public async Task The_cluster_health_check_is_healthy_while_the_silo_is_active_and_not_once_it_stops()
    {
        await using var node = await GatewayNode.StartAsync();
        var health = node.Services.GetRequiredService<HealthCheckService>();

        var report = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, report.Entries["orleansrooms-cluster"].Status);

        // The silo leaves the cluster (as when it is declared dead or shuts down) while the web host still answers.
        await node.Services.GetRequiredService<Orleans.Runtime.Silo>().StopAsync(CancellationToken.None);
        report = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, report.Entries["orleansrooms-cluster"].Status);
    }

    [Fact]
    public async Task A_gateway_without_an_Orleans_silo_says_how_to_add_one_at_start_up()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Services.AddSocketIO();
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());

        Assert.Contains("UseOrleans", error.Message, StringComparison.Ordinal);
    }
}
