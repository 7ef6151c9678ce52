using System.Text;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Specification;
using OrleansRooms.Tests.Engine;

namespace OrleansRooms.Tests.SocketIO;

/// <summary>
/// Socket.IO's <c>perMessageDeflate</c> and <c>compress</c> flag over raw WebSockets: a broadcast is compressed once
/// and the same frame reaches every socket that negotiated deflate; <c>Compress(false)</c> sends uncompressed.
/// </summary>
public sealed class CompressionTests : IAsyncLifetime, IDisposable
{
    private const string Offer = "permessage-deflate; client_max_window_bits";
    private static readonly string Large = string.Concat(Enumerable.Repeat("a message to the room ", 100));

    private readonly SemaphoreSlim _joined = new(0);
    private GatewayNode _node = null!;

    private SocketIOServer Io => _node.Io;

    public async Task InitializeAsync() =>
        _node = await GatewayNode.StartAsync(configureOptions: options => options.PerMessageDeflate = new());

    public async Task DisposeAsync() => await _node.DisposeAsync();

    public void Dispose() => _joined.Dispose();

    [Fact]
    public async Task A_broadcast_reaches_every_socket_that_negotiated_deflate_as_the_same_compressed_frame()
    {
        JoinRoomOnConnection();
        await using var first = await ConnectAsync(Offer);
        await using var second = await ConnectAsync(Offer);
        await using var plain = await ConnectAsync(extensions: null);
        await JoinedAsync(3);

        await Io.To("room").EmitAsync("news", Large);

        var (firstHeader, firstPayload) = await first.ReadFrameAsync();
        var (secondHeader, secondPayload) = await second.ReadFrameAsync();
        Assert.Equal(0xC1, firstHeader);
        Assert.Equal(0xC1, secondHeader);
        Assert.Equal(firstPayload, secondPayload);
        Assert.Equal($"42[\"news\",\"{Large}\"]", Encoding.UTF8.GetString(PerMessageDeflateFrames.Inflate(firstPayload)));

        // A socket that did not negotiate deflate gets the same broadcast uncompressed.
        Assert.Equal($"42[\"news\",\"{Large}\"]", await plain.ReadTextAsync());
    }

    [Fact]
    public async Task A_broadcast_with_Compress_false_is_sent_uncompressed()
    {
        JoinRoomOnConnection();
        await using var ws = await ConnectAsync(Offer);
        await JoinedAsync(1);

        await Io.To("room").Compress(false).EmitAsync("news", Large);
        await Io.To("room").EmitAsync("news", Large);

        Assert.Equal($"42[\"news\",\"{Large}\"]", await ws.ReadTextAsync());
        Assert.Equal(0xC1, (await ws.ReadFrameAsync()).First);
    }

    [Fact]
    public async Task A_broadcast_from_another_gateway_keeps_its_Compress_false()
    {
        JoinRoomOnConnection();
        await using var ws = await ConnectAsync(Offer);
        await JoinedAsync(1);
        var data = Encoding.UTF8.GetBytes($"[\"news\",\"{Large}\"]");
        ClusterMessage From(ClusterMessageFlags flags) => new()
        {
            Type = ClusterMessageType.Broadcast,
            Namespace = "/",
            Rooms = ["room"],
            Flags = flags,
            Data = data,
        };

        // As the cluster delivers what another gateway (or the Redis emitter) broadcast with Compress(false), then without.
        Io.Sockets.Broadcaster.DeliverFromCluster(From(ClusterMessageFlags.Uncompressed));
        Io.Sockets.Broadcaster.DeliverFromCluster(From(ClusterMessageFlags.None));

        Assert.Equal($"42[\"news\",\"{Large}\"]", await ws.ReadTextAsync());
        Assert.Equal(0xC1, (await ws.ReadFrameAsync()).First);

        // With connection state recovery on, the other gateways' broadcasts come in sequence, each with its offset.
        Io.Sockets.Broadcaster.DeliverSequenced(From(ClusterMessageFlags.Uncompressed), Grains.Recovery.RecoveryVector.Empty);
        Assert.StartsWith($"42[\"news\",\"{Large}\",", await ws.ReadTextAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_emit_with_Compress_false_is_sent_uncompressed()
    {
        Io.OnConnection(async socket =>
        {
            await socket.Compress(false).EmitAsync("hello", Large);
            await socket.EmitAsync("hello", Large);
        });
        await using var ws = await ConnectAsync(Offer);

        Assert.Equal($"42[\"hello\",\"{Large}\"]", await ws.ReadTextAsync());
        var (header, payload) = await ws.ReadFrameAsync();
        Assert.Equal(0xC1, header);
        Assert.Equal($"42[\"hello\",\"{Large}\"]", Encoding.UTF8.GetString(PerMessageDeflateFrames.Inflate(payload)));
    }

    [Fact]
    public async Task A_compressed_event_from_the_client_reaches_its_handler()
    {
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        Io.OnConnection(socket => socket.On("chat", e => received.TrySetResult(e.Get<string>(0)!)));
        await using var ws = await ConnectAsync(Offer);

        await ws.SendFrameAsync(0xC1, PerMessageDeflateFrames.Deflate(Encoding.UTF8.GetBytes($"42[\"chat\",\"{Large}\"]")));

        Assert.Equal(Large, await received.Task.WaitAsync(TestClient.DefaultWait));
    }

    private void JoinRoomOnConnection() => Io.OnConnection(async socket =>
    {
        await socket.JoinAsync("room");
        _joined.Release();
    });

    private async Task JoinedAsync(int sockets)
    {
        for (var i = 0; i < sockets; i++)
        {
            Assert.True(await _joined.WaitAsync(TestClient.DefaultWait));
        }
    }

    private async Task<RawWebSocket> ConnectAsync(string? extensions)
    {
        var ws = await RawWebSocket.ConnectAsync(_node.Url, "EIO=4&transport=websocket", extensions: extensions);
        Assert.StartsWith("0{", await ws.ReadTextAsync(), StringComparison.Ordinal);
        await ws.SendTextAsync("40");
        Assert.StartsWith("40{\"sid\":", await ws.ReadTextAsync(), StringComparison.Ordinal);

        return ws;
    }
}
