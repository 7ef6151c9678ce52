using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using OrleansRooms.Engine;

namespace OrleansRooms.Tests.Engine;

/// <summary>
/// An echo server built on the public Engine.IO layer alone (<c>AddEngineIO</c> + <c>MapEngineIO</c>), checked byte for
/// byte against the Engine.IO v4 specification over raw HTTP and WebSocket.
/// </summary>
public sealed partial class EngineIOEchoTests
{
    [Fact]
    public async Task The_handshake_answers_the_open_packet_of_the_spec()
    {
        await using var echo = await EchoServer.StartAsync();

        using var response = await echo.Http.GetAsync("/engine.io/?EIO=4&transport=polling");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; charset=UTF-8", response.Content.Headers.ContentType!.ToString());
        Assert.Matches(OpenPacket(), await response.Content.ReadAsStringAsync());
        Assert.Equal(1, echo.Server.ConnectionCount);
    }

    [Fact]
    public async Task Polling_payloads_carry_packets_separated_by_0x1E_and_binary_as_b_and_base64()
    {
        await using var echo = await EchoServer.StartAsync();
        var sid = await echo.HandshakeAsync();

        using var post = await echo.Http.PostAsync(echo.Polling(sid), new ByteArrayContent("4hello\u001ebAQIDBA==\u001e4€"u8.ToArray()));
        Assert.Equal("ok", await post.Content.ReadAsStringAsync());

        Assert.Equal("4hello\u001ebAQIDBA==\u001e4€"u8.ToArray(), await echo.Http.GetByteArrayAsync(echo.Polling(sid)));
        Assert.Equal(["text:hello", "binary:01-02-03-04", "text:€"], echo.Received);
    }

    [Fact]
    public async Task A_WebSocket_upgrade_probes_pauses_polling_then_carries_the_messages()
    {
        await using var echo = await EchoServer.StartAsync();
        var sid = await echo.HandshakeAsync();
        var parked = echo.Http.GetStringAsync(echo.Polling(sid));

        using var ws = await echo.WebSocketAsync($"sid={sid}");
        await SendAsync(ws, "2probe");
        Assert.Equal("3probe", await ReceiveTextAsync(ws));
        Assert.Equal("6", await parked);
        await SendAsync(ws, "5");

        await SendAsync(ws, "4over websocket");
        Assert.Equal("4over websocket", await ReceiveTextAsync(ws));
        await ws.SendAsync(new byte[] { 9, 8, 7 }, WebSocketMessageType.Binary, true, CancellationToken.None);
        var (type, data) = await ReceiveAsync(ws);
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Equal(new byte[] { 9, 8, 7 }, data);
        Assert.Equal(HttpStatusCode.BadRequest, (await echo.Http.GetAsync(echo.Polling(sid))).StatusCode);
    }

    [Fact]
    public async Task A_WebSocket_session_opens_with_no_upgrades_and_closes_on_a_close_packet()
    {
        await using var echo = await EchoServer.StartAsync();
        using var ws = await echo.WebSocketAsync(null);

        var open = await ReceiveTextAsync(ws);
        Assert.Matches(OpenPacket(), open.Replace("[]", "[\"websocket\"]", StringComparison.Ordinal));
        Assert.Contains("\"upgrades\":[]", open, StringComparison.Ordinal);
        await SendAsync(ws, "1");

        Assert.Equal(WebSocketMessageType.Close, (await ReceiveAsync(ws)).Type);
        Assert.Equal("transport close", await echo.Closed.Task.WaitAsync(EngineTestServer.Timeout));
        Assert.Equal(0, echo.Server.ConnectionCount);
    }

    [Fact]
    public async Task The_server_pings_every_pingInterval_and_closes_a_silent_client_after_pingTimeout()
    {
        var time = new FakeTimeProvider();
        var start = time.GetUtcNow();
        await using var echo = await EchoServer.StartAsync(time);
        var sid = await echo.HandshakeAsync();

        time.SetUtcNow(start + TimeSpan.FromMilliseconds(300));
        Assert.Equal("2", await echo.Http.GetStringAsync(echo.Polling(sid)));
        using (var pong = await echo.Http.PostAsync(echo.Polling(sid), new StringContent("3")))
        {
            Assert.Equal("ok", await pong.Content.ReadAsStringAsync());
        }

        time.SetUtcNow(start + TimeSpan.FromMilliseconds(600));
        Assert.Equal("2", await echo.Http.GetStringAsync(echo.Polling(sid)));
        time.SetUtcNow(start + TimeSpan.FromMilliseconds(799));
        Assert.False(echo.Closed.Task.IsCompleted);
        time.SetUtcNow(start + TimeSpan.FromMilliseconds(800));

        Assert.Equal("ping timeout", await echo.Closed.Task.WaitAsync(EngineTestServer.Timeout));
        Assert.Equal(HttpStatusCode.BadRequest, (await echo.Http.GetAsync(echo.Polling(sid))).StatusCode);
    }

    [Fact]
    public async Task A_server_close_is_a_close_packet_to_the_polling_client()
    {
        await using var echo = await EchoServer.StartAsync();
        var sid = await echo.HandshakeAsync();

        using (var post = await echo.Http.PostAsync(echo.Polling(sid), new StringContent("4bye")))
        {
            Assert.Equal("ok", await post.Content.ReadAsStringAsync());
        }

        Assert.Equal("4bye\u001e1", await echo.Http.GetStringAsync(echo.Polling(sid)));
        Assert.Equal("forced close", await echo.Closed.Task.WaitAsync(EngineTestServer.Timeout));
    }

    [GeneratedRegex("""^0\{"sid":"[A-Za-z0-9_-]{20}","upgrades":\["websocket"\],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000\}$""")]
    private static partial Regex OpenPacket();

    private static Task SendAsync(ClientWebSocket ws, string text) =>
        ws.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    private static async Task<string> ReceiveTextAsync(ClientWebSocket ws)
    {
        var (type, data) = await ReceiveAsync(ws);
        Assert.Equal(WebSocketMessageType.Text, type);
        return Encoding.UTF8.GetString(data);
    }

    private static async Task<(WebSocketMessageType Type, byte[] Data)> ReceiveAsync(ClientWebSocket ws)
    {
        using var timeout = new CancellationTokenSource(EngineTestServer.Timeout);
        var buffer = new byte[4096];
        var result = await ws.ReceiveAsync(buffer, timeout.Token);
        Assert.True(result.EndOfMessage);
        return (result.MessageType, buffer[..result.Count]);
    }

    /// <summary>The echo application: every message goes back as it came; "bye" closes the connection after its echo.</summary>
    private sealed class EchoServer : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private EchoServer(WebApplication app)
        {
            _app = app;
            Server = app.Services.GetRequiredService<EngineIOServer>();
            Http = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = EngineTestServer.Timeout };
        }

        public EngineIOServer Server { get; }

        public HttpClient Http { get; }

        public List<string> Received { get; } = [];

        public TaskCompletionSource<string> Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static async Task<EchoServer> StartAsync(TimeProvider? time = null)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
            // Time stands still unless a test moves it: on a loaded machine the 300 ms interval would otherwise put a
            // heartbeat ping between the packets a test expects.
            builder.Services.AddSingleton(time ?? new FakeTimeProvider());

            builder.Services.AddEngineIO(options =>
            {
                options.PingInterval = TimeSpan.FromMilliseconds(300);
                options.PingTimeout = TimeSpan.FromMilliseconds(200);
            });
            var app = builder.Build();
            EchoServer? echo = null;
            app.MapEngineIO("/engine.io", engine => engine.OnConnection(connection =>
            {
                connection.OnMessage(message =>
                {
                    lock (echo!.Received)
                    {
                        echo.Received.Add(message.IsBinary ? "binary:" + BitConverter.ToString(message.Data!) : "text:" + message.Text);
                    }

                    if (message.IsBinary)
                    {
                        connection.Send(message.Data);
                    }
                    else
                    {
                        connection.Send(message.Text!);
                        if (message.Text == "bye")
                        {
                            connection.Close();
                        }
                    }
                });
                connection.OnClose(reason => echo!.Closed.TrySetResult(reason));
            }));
            await app.StartAsync();
            echo = new EchoServer(app);
            return echo;
        }

        public string Polling(string sid) => $"/engine.io/?EIO=4&transport=polling&sid={sid}";

        public async Task<ClientWebSocket> WebSocketAsync(string? query)
        {
            var ws = new ClientWebSocket();
            var uri = new Uri($"ws://{Http.BaseAddress!.Authority}/engine.io/?EIO=4&transport=websocket" + (query is null ? string.Empty : "&" + query));
            using var timeout = new CancellationTokenSource(EngineTestServer.Timeout);
            await ws.ConnectAsync(uri, timeout.Token);
            return ws;
        }

        public async Task<string> HandshakeAsync()
        {
            var open = await Http.GetStringAsync("/engine.io/?EIO=4&transport=polling");
            Assert.Matches(OpenPacket(), open);
            return open.Substring("0{\"sid\":\"".Length, 20);
        }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
