using System.Net;
using System.Net.WebSockets;

namespace OrleansRooms.Tests.Engine;

public sealed class EngineHandshakeTests
{
    [Fact]
    public async Task Polling_handshake_answers_the_open_packet()
    {
        await using var server = await EngineTestServer.StartAsync();

        using var response = await server.Http.GetAsync("/socket.io/?EIO=4&transport=polling");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; charset=UTF-8", response.Content.Headers.ContentType!.ToString());
        var sid = body.Substring(9, 20);
        Assert.Matches("^[A-Za-z0-9_-]{20}$", sid);
        Assert.Equal($"0{{\"sid\":\"{sid}\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}}", body);
        await server.Handler.NextOpenAsync(sid);
        Assert.Equal(1, server.Handler.Opens(sid));
        Assert.Equal("polling", server.Handler.Connection(sid).TransportName);
        Assert.Equal(1, server.Engine.OpenSessionCount);
    }

    [Fact]
    public async Task Session_ids_are_unique()
    {
        await using var server = await EngineTestServer.StartAsync();
        var first = await server.HandshakeAsync();
        var second = await server.HandshakeAsync();
        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task Session_ids_start_with_the_configured_prefix_and_route_later_requests()
    {
        await using var server = await EngineTestServer.StartAsync(options => options.SessionIdPrefix = "g2.");

        var sid = await server.HandshakeAsync();
        var (status, _) = await server.PostAsync(sid, "4hello");

        Assert.Matches("^g2\\.[A-Za-z0-9_-]{20}$", sid);
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task Handshake_reflects_the_options()
    {
        await using var server = await EngineTestServer.StartAsync(options =>
        {
            options.PingInterval = TimeSpan.FromSeconds(3);
            options.PingTimeout = TimeSpan.FromSeconds(2);
            options.MaxHttpBufferSize = 1234;
            options.AllowUpgrades = false;
        });

        var body = await server.Http.GetStringAsync("/socket.io/?EIO=4&transport=polling");

        Assert.EndsWith("\",\"upgrades\":[],\"pingInterval\":3000,\"pingTimeout\":2000,\"maxPayload\":1234}", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Handshake_offers_no_upgrade_when_websocket_is_not_a_transport()
    {
        await using var server = await EngineTestServer.StartAsync(options =>
        {
            options.Transports = SocketIOTransports.Polling;
        });

        var body = await server.Http.GetStringAsync("/socket.io/?EIO=4&transport=polling");
        Assert.Contains("\"upgrades\":[]", body, StringComparison.Ordinal);

        using var response = await server.Http.GetAsync("/socket.io/?EIO=4&transport=websocket");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("{\"code\":0,\"message\":\"Transport unknown\"}", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("GET", "/socket.io/?transport=polling", 400, "{\"code\":5,\"message\":\"Unsupported protocol version\"}")]
    [InlineData("GET", "/socket.io/?EIO=3&transport=polling", 400, "{\"code\":5,\"message\":\"Unsupported protocol version\"}")]
    [InlineData("GET", "/socket.io/?EIO=abc&transport=polling", 400, "{\"code\":5,\"message\":\"Unsupported protocol version\"}")]
    [InlineData("GET", "/socket.io/?EIO=4", 400, "{\"code\":0,\"message\":\"Transport unknown\"}")]
    [InlineData("GET", "/socket.io/?EIO=4&transport=abc", 400, "{\"code\":0,\"message\":\"Transport unknown\"}")]
    [InlineData("GET", "/socket.io/?EIO=4&transport=polling&sid=unknown", 400, "{\"code\":1,\"message\":\"Session ID unknown\"}")]
    [InlineData("POST", "/socket.io/?EIO=4&transport=polling&sid=unknown", 400, "{\"code\":1,\"message\":\"Session ID unknown\"}")]
    [InlineData("POST", "/socket.io/?EIO=4&transport=polling", 400, "{\"code\":2,\"message\":\"Bad handshake method\"}")]
    [InlineData("PUT", "/socket.io/?EIO=4&transport=polling", 400, "{\"code\":2,\"message\":\"Bad handshake method\"}")]
    [InlineData("GET", "/socket.io/?EIO=4&transport=websocket", 400, "{\"code\":3,\"message\":\"Bad request\"}")]
    public async Task Malformed_requests_get_the_documented_error(string method, string url, int status, string body)
    {
        await using var server = await EngineTestServer.StartAsync();

        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method != "GET")
        {
            request.Content = new StringContent("4x");
        }

        using var response = await server.Http.SendAsync(request);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.ToString());
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Options_preflight_gets_204()
    {
        await using var server = await EngineTestServer.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Options, "/socket.io/?EIO=4&transport=polling");
        using var response = await server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Fact]
    public async Task AllowRequest_false_answers_403_forbidden()
    {
        await using var server = await EngineTestServer.StartAsync(options =>
            options.AllowRequest = context => ValueTask.FromResult(context.Request.Headers.ContainsKey("X-Let-Me-In")));

        using var refused = await server.Http.GetAsync("/socket.io/?EIO=4&transport=polling");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("{\"code\":4,\"message\":\"Forbidden\"}", await refused.Content.ReadAsStringAsync());

        using var request = new HttpRequestMessage(HttpMethod.Get, "/socket.io/?EIO=4&transport=polling");
        request.Headers.Add("X-Let-Me-In", "1");
        using var allowed = await server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);

        using var ws = new ClientWebSocket();
        await Assert.ThrowsAsync<WebSocketException>(() => ws.ConnectAsync(server.WebSocketUri("EIO=4&transport=websocket"), CancellationToken.None));
        Assert.Equal(0, server.Engine.OpenSessionCount - 1);
    }

    [Fact]
    public async Task Handshake_request_is_kept_for_the_session()
    {
        await using var server = await EngineTestServer.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/socket.io/?EIO=4&transport=polling&token=abc");
        request.Headers.Add("X-Custom", "value");
        request.Headers.Add("Origin", "http://example.com");
        using var response = await server.Http.SendAsync(request);
        var connection = await server.Handler.NextOpenedAsync();

        Assert.Equal("abc", connection.Request.Query["token"]);
        Assert.Equal("value", connection.Request.Headers["X-Custom"]);
        Assert.Equal("127.0.0.1", connection.Request.RemoteAddress);
        Assert.Equal("/socket.io/?EIO=4&transport=polling&token=abc", connection.Request.Url);
        Assert.True(connection.Request.CrossDomain);
        Assert.False(connection.Request.Secure);
    }

    [Theory]
    [InlineData("?EIO=4&transport=websocket", "transport", 1, "websocket")]
    [InlineData("?eio=4", "EIO", 1, "4")]
    [InlineData("?sid=a%2Bb+c&sid=x", "sid", 2, "a+b c")]
    [InlineData("?sid", "sid", 1, "")]
    [InlineData("?s%69d=1&&", "sid", 1, "1")]
    [InlineData("", "sid", 0, null)]
    public void Query_values_are_read_as_the_request_query_decodes_them(string query, string key, int count, string? value)
    {
        Assert.Equal(count, OrleansRooms.Engine.EngineRequest.FindQueryValue(query, key, out var found));
        Assert.Equal(value, found);
        var parsed = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query);
        Assert.Equal(count, parsed.TryGetValue(key, out var values) ? values.Count : 0);
    }
}
