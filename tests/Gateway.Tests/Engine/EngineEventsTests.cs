using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansRooms.Specification;

namespace OrleansRooms.Tests.Engine;

/// <summary>
/// The engine's events under Socket.IO (<see cref="SocketIOServer.Engine"/>): <c>connection_error</c> for each refused
/// request, and the <c>initial_headers</c> and <c>headers</c> hooks, seen by raw HTTP and WebSocket clients.
/// </summary>
public sealed class EngineEventsTests : IAsyncLifetime, IDisposable
{
    private readonly ConcurrentQueue<(int Status, int Code, string Message, IReadOnlyDictionary<string, string?> Context, string Query)> _errors = new();
    private GatewayNode _node = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _node = await GatewayNode.StartAsync(configureOptions: options =>
            options.AllowRequest = context => ValueTask.FromResult(!context.Request.Query.ContainsKey("forbidden")));
        _node.Io.Engine.OnConnectionError(e => _errors.Enqueue((e.Status, e.Code, e.Message, e.Context, e.Request.QueryString.Value ?? "")));
        _http = new HttpClient { BaseAddress = _node.Url, Timeout = TestClient.DefaultWait };
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    public void Dispose() => _http?.Dispose();

    [Theory]
    [InlineData("GET", "?EIO=4&transport=carrier-pigeon", 400, 0, "Transport unknown", "transport", "carrier-pigeon")]
    [InlineData("GET", "?EIO=4&transport=polling&sid=no-such-session", 400, 1, "Session ID unknown", "sid", "no-such-session")]
    [InlineData("PUT", "?EIO=4&transport=polling", 400, 2, "Bad handshake method", "method", "PUT")]
    [InlineData("GET", "?EIO=4&transport=websocket", 400, 3, "Bad request", null, null)]
    [InlineData("GET", "?EIO=4&transport=polling&forbidden", 403, 4, "Forbidden", null, null)]
    [InlineData("GET", "?EIO=9&transport=polling", 400, 5, "Unsupported protocol version", "protocol", "9")]
    public async Task Each_refused_request_raises_connection_error_with_the_code_sent_to_the_client(
        string method, string query, int status, int code, string message, string? contextKey, string? contextValue)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), "/socket.io/" + query);
        using var response = await _http.SendAsync(request);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal($"{{\"code\":{code},\"message\":\"{message}\"}}", await response.Content.ReadAsStringAsync());
        var error = Assert.Single(_errors);
        Assert.Equal((status, code, message, query), (error.Status, error.Code, error.Message, error.Query));
        if (contextKey is null)
        {
            Assert.Empty(error.Context);
        }
        else
        {
            Assert.Equal(contextValue, Assert.Single(error.Context, pair => pair.Key == contextKey).Value);
        }
    }

    [Fact]
    public async Task Accepted_requests_raise_no_connection_error()
    {
        using var response = await _http.GetAsync("/socket.io/?EIO=4&transport=polling");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(_errors);
    }

    [Fact]
    public async Task Initial_headers_go_on_the_handshake_and_headers_on_every_polling_response()
    {
        _node.Io.Engine
            .OnInitialHeaders((headers, request) => headers["x-initial"] = request.Query["transport"].ToString())
            .OnHeaders((headers, request) => headers["x-every"] = headers.ContainsKey("x-initial") ? "after-initial" : request.Method);

        using var handshake = await _http.GetAsync("/socket.io/?EIO=4&transport=polling");
        var body = await handshake.Content.ReadAsStringAsync();
        var sid = body.Substring(9, body.IndexOf('"', 9) - 9);
        using var post = await _http.PostAsync($"/socket.io/?EIO=4&transport=polling&sid={sid}", new StringContent("40", Encoding.UTF8, "text/plain"));
        using var poll = await _http.GetAsync($"/socket.io/?EIO=4&transport=polling&sid={sid}");
        using var refused = await _http.GetAsync("/socket.io/?EIO=4&transport=polling&sid=no-such-session");

        Assert.Equal(("polling", "after-initial"), (Header(handshake, "x-initial"), Header(handshake, "x-every")));
        Assert.Equal((null, "POST"), (Header(post, "x-initial"), Header(post, "x-every")));
        Assert.StartsWith("40{\"sid\":", await poll.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal((null, "GET"), (Header(poll, "x-initial"), Header(poll, "x-every")));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal((null, null), (Header(refused, "x-initial"), Header(refused, "x-every")));
    }

    [Fact]
    public async Task Initial_headers_and_headers_go_on_the_101_of_a_websocket_handshake_and_headers_only_on_an_upgrade()
    {
        _node.Io.Engine
            .OnInitialHeaders((headers, _) => headers["x-initial"] = "yes")
            .OnHeaders((headers, request) => headers["x-every"] = request.Query["transport"].ToString());

        using var direct = await OpenWebSocketAsync("EIO=4&transport=websocket");
        using var handshake = await _http.GetAsync("/socket.io/?EIO=4&transport=polling");
        var body = await handshake.Content.ReadAsStringAsync();
        using var upgrade = await OpenWebSocketAsync($"EIO=4&transport=websocket&sid={body.Substring(9, body.IndexOf('"', 9) - 9)}");

        Assert.Equal(("yes", "websocket"), (Header(direct, "x-initial"), Header(direct, "x-every")));
        Assert.Equal((null, "websocket"), (Header(upgrade, "x-initial"), Header(upgrade, "x-every")));
    }

    [Fact]
    public async Task A_headers_handler_that_throws_is_logged_and_the_response_still_goes_out()
    {
        _node.Io.Engine
            .OnHeaders((_, _) => throw new InvalidOperationException("handler bug"))
            .OnHeaders((headers, _) => headers["x-after"] = "ran");

        using var handshake = await _http.GetAsync("/socket.io/?EIO=4&transport=polling");

        Assert.Equal(HttpStatusCode.OK, handshake.StatusCode);
        Assert.StartsWith("0{\"sid\":", await handshake.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("ran", Header(handshake, "x-after"));
    }

    [Fact]
    public async Task An_engine_io_server_of_its_own_raises_the_same_events()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.AddEngineIO();
        await using var app = builder.Build();
        var refused = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        app.MapEngineIO("/engine.io", engine =>
        {
            engine.Events.OnConnectionError(error => refused.TrySetResult(error.Code));
            engine.Events.OnInitialHeaders((headers, _) => headers["x-initial"] = "standalone");
        });
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TestClient.DefaultWait };

        using var handshake = await http.GetAsync("/engine.io/?EIO=4&transport=polling");
        using var unknown = await http.GetAsync("/engine.io/?EIO=4&transport=polling&sid=no-such-session");

        Assert.Equal("standalone", Header(handshake, "x-initial"));
        Assert.Equal(1, await refused.Task.WaitAsync(TestClient.DefaultWait));
        await app.StopAsync();
    }

    private async Task<ClientWebSocket> OpenWebSocketAsync(string query)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        using var timeout = new CancellationTokenSource(TestClient.DefaultWait);
        await socket.ConnectAsync(new Uri($"ws://{_node.Url.Authority}/socket.io/?{query}"), timeout.Token);
        return socket;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    private static string? Header(ClientWebSocket socket, string name) =>
        socket.HttpResponseHeaders is { } headers && headers.TryGetValue(name, out var values) ? string.Join(",", values) : null;
}
