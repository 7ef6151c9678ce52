using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OrleansRooms.Specification;

namespace OrleansRooms.Tests.Docs;

/// <summary>The samples of <c>docs/production.md</c>, each on a real gateway with real HTTP and WebSocket requests.</summary>
public sealed class ProductionDocsTests
{
    private const string Handshake = "socket.io/?EIO=4&transport=polling";

    [Fact]
    public async Task The_origin_check_refuses_other_sites_on_both_transports_and_lets_clients_without_an_origin_in()
    {
        var builder = DocsHost.NewBuilder();
        builder.UseTestSilo();

        // docs/production.md: Which pages may connect
        var allowedOrigins = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "https://chat.example.com" };
        builder.Services.AddSocketIO(options => options.AllowRequest = context =>
        {
            var origin = context.Request.Headers.Origin;
            return ValueTask.FromResult(origin.Count == 0 || allowedOrigins.Contains(origin.ToString()));
        });

        await using var app = await DocsHost.StartAsync(builder, app => app.MapSocketIO());
        using var http = new HttpClient { BaseAddress = Url(app) };

        Assert.Equal(HttpStatusCode.OK, (await PollAsync(http, null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PollAsync(http, "https://chat.example.com")).StatusCode);
        using var refused = await PollAsync(http, "https://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("""{"code":4,"message":"Forbidden"}""", await refused.Content.ReadAsStringAsync());

        using var evil = new ClientWebSocket();
        evil.Options.SetRequestHeader("Origin", "https://evil.example");
        await Assert.ThrowsAsync<WebSocketException>(() => evil.ConnectAsync(WebSocketUrl(app), CancellationToken.None));
        await using var page = await TestClient.ConnectAsync(Url(app), headers: new Dictionary<string, string> { ["Origin"] = "https://chat.example.com" });
        Assert.NotNull(page.Id);
    }

    [Fact]
    public async Task CORS_on_the_endpoint_lets_the_allowed_origin_read_long_polling()
    {
        var builder = DocsHost.NewBuilder();
        builder.UseTestSilo();
        builder.Services.AddSocketIO();

        // docs/production.md: Which pages may connect (CORS)
        builder.Services.AddCors(cors => cors.AddPolicy("chat", policy =>
            policy.WithOrigins("https://chat.example.com").AllowCredentials()));

        await using var app = await DocsHost.StartAsync(builder, app =>
        {
            app.UseCors();
            app.MapSocketIO().RequireCors("chat");
        });
        using var http = new HttpClient { BaseAddress = Url(app) };

        using var allowed = await PollAsync(http, "https://chat.example.com");
        Assert.Equal("https://chat.example.com", Assert.Single(allowed.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Equal("true", Assert.Single(allowed.Headers.GetValues("Access-Control-Allow-Credentials")));
        using var other = await PollAsync(http, "https://evil.example");
        Assert.False(other.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Behind_a_known_proxy_the_handshake_address_is_the_client_from_X_Forwarded_For()
    {
        var builder = DocsHost.NewBuilder();
        builder.UseTestSilo();
        builder.Services.AddSocketIO();
        var proxyAddress = IPAddress.Loopback; // the test's requests come from here, as a proxy's would

        // docs/production.md: The client's address behind a proxy
        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            options.KnownIPNetworks.Clear();
            options.KnownProxies.Clear();
            options.KnownProxies.Add(proxyAddress); // only the proxy may speak for a client
        });

        // The connection handler runs once the client is told it is connected: waited for, not read at once.
        var address = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await DocsHost.StartAsync(builder, app =>
        {
            app.UseForwardedHeaders();
            app.MapSocketIO("/socket.io", io => io.OnConnection(socket => address.TrySetResult(socket.Handshake.Address)));
        });

        await using var client = await TestClient.ConnectAsync(Url(app), headers: new Dictionary<string, string> { ["X-Forwarded-For"] = "203.0.113.7" });

        Assert.Equal("203.0.113.7", await address.Task.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Prometheus_scrapes_the_gateway_metrics_at_metrics()
    {
        var builder = DocsHost.NewBuilder();
        builder.UseTestSilo();
        builder.Services.AddSocketIO();

        // docs/production.md: Monitoring
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter("OrleansRooms.Gateway")
            .AddPrometheusExporter());

        await using var app = await DocsHost.StartAsync(builder, app =>
        {
            app.MapSocketIO();
            app.MapPrometheusScrapingEndpoint(); // GET /metrics, in Prometheus' text format
        });
        await using var client = await TestClient.ConnectAsync(Url(app));
        using var http = new HttpClient { BaseAddress = Url(app) };

        var scraped = await http.GetStringAsync("metrics");

        Assert.Contains("orleansrooms_socketio_sockets", scraped, StringComparison.Ordinal);
        Assert.Contains("orleansrooms_engine_handshake_duration_seconds_bucket", scraped, StringComparison.Ordinal);
    }



    private static Uri Url(GatewayNode app) => app.Url;

    private static Uri WebSocketUrl(GatewayNode app) => new(app.Url.ToString().Replace("http://", "ws://", StringComparison.Ordinal) + "socket.io/?EIO=4&transport=websocket");

    private static Task<HttpResponseMessage> PollAsync(HttpClient http, string? origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, Handshake);
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        return http.SendAsync(request);
    }
}
