using System.Text;
using Microsoft.Extensions.Logging;
using OrleansRooms.Specification;
using OrleansRooms.Tests.Engine;

namespace OrleansRooms.Tests.SocketIO;

/// <summary>
/// What a client may send that the server must take calmly: text .NET cannot hold, ack ids as large as JavaScript
/// numbers allow, and names made to forge log lines. Real sockets on loopback, every log message recorded.
/// </summary>
public sealed class ClientInputTests : IAsyncLifetime, IDisposable
{
    private readonly LogRecorder _log = new();
    private GatewayNode _node = null!;

    private SocketIOServer Io => _node.Io;

    public async Task InitializeAsync() => _node = await GatewayNode.StartAsync(configureServices: _log.AddTo);

    public async Task DisposeAsync() => await _node.DisposeAsync();

    public void Dispose() => _log.Dispose();

    [Theory]
    [InlineData("42[\"\\ud800\"]")]                   // a lone surrogate as the event name
    [InlineData("42[\"chat\",\"a\\udc00\"]")]         // in an argument
    [InlineData("421[\"chat\",{\"\\ud83d\":1}]")]     // in a property name of an event that wants an ack
    [InlineData("430[\"\\ud800\"]")]                  // in an ack payload
    [InlineData("40/other,{\"token\":\"\\ud800\"}")]  // in the auth payload of a CONNECT
    public async Task A_lone_surrogate_is_a_parse_error_logged_at_debug_level(string packet)
    {
        var reason = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        Io.OnConnection(socket => socket.OnDisconnect(r => reason.TrySetResult(r)));
        await using var client = await TestClient.ConnectAsync(_node.Url);

        await client.SendRawAsync(packet);

        await client.Closed.WaitAsync(TestClient.DefaultWait);
        Assert.Equal(DisconnectReason.ParseError, await reason.Task.WaitAsync(TestClient.DefaultWait));
        var line = await _log.WaitForAsync(e => e.Message.Contains("lone UTF-16 surrogate", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Debug, line.Level);
        // The gateway's own lines: the co-hosted silo notes its environment (GC settings) at start-up.
        Assert.DoesNotContain(_log.Entries, e => e.Category.StartsWith("OrleansRooms", StringComparison.Ordinal) && (e.Level >= LogLevel.Warning || e.Exception is not null));
    }

    [Theory]
    [InlineData(2147483648L)]        // 2^31: past an int
    [InlineData(9007199254740991L)]  // 2^53 - 1: Number.MAX_SAFE_INTEGER, the largest id a JavaScript client can mean
    public async Task A_client_ack_id_up_to_the_largest_safe_javascript_integer_is_answered_with_the_same_id(long id)
    {
        Io.OnConnection(socket => socket.On("echo", e => e.Ack(e.Get<string>(0))));
        await using var ws = await ConnectRawAsync();

        await ws.SendTextAsync($"42{id}[\"echo\",\"hi\"]");

        Assert.Equal($"43{id}[\"hi\"]", await ws.ReadTextAsync());
        await ws.SendTextAsync("42[\"echo\",\"still open\"]");
        await ws.SendTextAsync("420[\"echo\",\"still open\"]");
        Assert.Equal("430[\"still open\"]", await ws.ReadTextAsync());
    }

    [Fact]
    public async Task A_client_ack_id_past_the_largest_safe_javascript_integer_is_a_parse_error()
    {
        var reason = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        Io.OnConnection(socket =>
        {
            socket.On("echo", e => e.Ack(e.Get<string>(0)));
            socket.OnDisconnect(r => reason.TrySetResult(r));
        });
        await using var ws = await ConnectRawAsync();

        await ws.SendTextAsync("429007199254740992[\"echo\",\"hi\"]");

        Assert.Equal(DisconnectReason.ParseError, await reason.Task.WaitAsync(TestClient.DefaultWait));
        Assert.Contains("Ack id out of range", (await _log.WaitForAsync(e => e.Message.Contains("invalid packet", StringComparison.Ordinal))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Names_a_client_chooses_reach_the_log_escaped()
    {
        const string Forged = "\r\n[fake] info: admin logged in\u001b[31m";
        var nsp = "/a" + Forged;
        var handled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Io.Of((name, auth) => ValueTask.FromResult(true)).OnConnection(socket =>
        {
            socket.On("boom" + Forged, _ => throw new InvalidOperationException("the handler fails"));
            socket.OnDisconnect(_ => handled.TrySetResult());
        });
        await using var client = await TestClient.ConnectAsync(_node.Url, nsp);

        await client.EmitAsync("boom" + Forged);                                 // HandlerFailed quotes the event name
        await _log.WaitForAsync(e => e.Message.Contains("handler of socket", StringComparison.Ordinal));
        await client.SendRawAsync("42/b" + Forged + ",[\"x\"]");               // a namespace it is not in: InvalidState
        await client.Closed.WaitAsync(TestClient.DefaultWait);
        await handled.Task.WaitAsync(TestClient.DefaultWait);                    // SocketDisconnected names the namespace

        var escaped = LogText.Escape(Forged);
        Assert.Equal(@"\r\n[fake] info: admin logged in\u001B[31m", escaped);
        var ours = _log.Entries.Where(e => e.Category.StartsWith("OrleansRooms", StringComparison.Ordinal)).ToList();
        Assert.Contains(ours, e => e.Message.Contains("connected to namespace /a" + escaped, StringComparison.Ordinal));
        Assert.Contains(ours, e => e.Message.Contains("'boom" + escaped + "' handler", StringComparison.Ordinal));
        Assert.Contains(ours, e => e.Message.Contains("namespace /b" + escaped + " in the wrong state", StringComparison.Ordinal));
        Assert.Contains(ours, e => e.Message.Contains("disconnected from namespace /a" + escaped, StringComparison.Ordinal));
        Assert.All(ours, e => Assert.True(e.Message.IndexOfAny(['\r', '\n', '\u001b']) < 0, $"raw control character in: {e.Message}"));
    }

    /// <summary>A byte-level WebSocket connected to the main namespace.</summary>
    private async Task<RawWebSocket> ConnectRawAsync()
    {
        var ws = await RawWebSocket.ConnectAsync(_node.Url, "EIO=4&transport=websocket");
        Assert.StartsWith("0{", await ws.ReadTextAsync(), StringComparison.Ordinal);
        await ws.SendTextAsync("40");
        Assert.StartsWith("40{\"sid\":", await ws.ReadTextAsync(), StringComparison.Ordinal);
        return ws;
    }
}
