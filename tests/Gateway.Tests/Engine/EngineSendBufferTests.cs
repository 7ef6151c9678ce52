using System.Net;
using Microsoft.Extensions.Time.Testing;
using OrleansRooms.Engine;

namespace OrleansRooms.Tests.Engine;

/// <summary>MaxSendBufferSize: what waits to be sent to a client that does not read stays bounded, then the client is closed.</summary>
public sealed class EngineSendBufferTests
{
    private const int Limit = 64 * 1024;

    private static readonly EnginePacket Message = EnginePacket.FromText("4" + new string('x', 480));

    [Fact]
    public async Task A_WebSocket_client_that_never_reads_is_closed_once_the_buffer_is_full_and_memory_stays_bounded()
    {
        await using var server = await EngineTestServer.StartAsync(options => options.MaxSendBufferSize = Limit);
        server.Handler.Echo = false;
        await using var client = await StalledClient.ConnectAsync(server.BaseUri, "EIO=4&transport=websocket");
        var session = (EngineSession)await server.Handler.NextOpenedAsync();

        var size = Message.WebSocketFrame.Length;
        var sent = 0L;
        var volatileDroppedFirst = false;
        while (session.Send([Message]))
        {
            sent += size;
            var pending = session.PendingBytes;
            Assert.True(pending <= Limit + size, $"{pending} bytes wait to be sent, over the limit plus one packet");
            if (pending > Limit / 2 && !session.TrySendVolatile([Message]))
            {
                volatileDroppedFirst = true;
            }

            // The kernel's socket buffers take some megabytes first; a server without a limit never stops accepting.
            Assert.True(sent < 256L * 1024 * 1024, "256 MiB were accepted for a client that reads nothing");
        }

        Assert.True(volatileDroppedFirst, "volatile packets were not dropped before the buffer was full");
        Assert.Equal("send buffer full", await server.Handler.ClosedAsync(session.Id));
        Assert.Equal(0, session.PendingBytes);
        Assert.True(await client.ReadToEndAsync(), "the connection of the closed session is still open");
        Assert.Equal(0, server.Engine.OpenSessionCount);
    }

    [Fact]
    public async Task A_pending_pong_counts_in_the_send_buffer_once_however_many_pings_and_a_full_buffer_drops_the_WebSocket_at_once()
    {
        // 16 MB the client never reads, more than the sockets hold: the writer stalls on them, and the pong waits.
        var stalled = EnginePacket.FromText("4" + new string('x', 16_000_000));
        var last = EnginePacket.FromText("4" + new string('y', 1000));
        const int PongFrame = 2 + 125;

        // On a fake clock that never moves, nothing but the full buffer can end the connection (no close deadline).
        var time = new FakeTimeProvider();
        await using var server = await EngineTestServer.StartAsync(
            options => options.MaxSendBufferSize = stalled.WebSocketFrame.Length + last.WebSocketFrame.Length,
            time: time);
        server.Handler.Echo = false;
        await using var ws = await RawWebSocket.ConnectAsync(server.BaseUri, "EIO=4&transport=websocket", receiveBufferSize: 4096);
        Assert.StartsWith("0{", await ws.ReadTextAsync(), StringComparison.Ordinal);
        var session = (EngineSession)await server.Handler.NextOpenedAsync();
        var transport = Assert.Single(server.Engine.WebSockets);
        Assert.True(session.Send([stalled]));

        var pings = new MemoryStream();
        for (var i = 0; i < 1000; i++)
        {
            pings.Write(RawWebSocket.Frame(0x89, new byte[125]));
        }

        await ws.SendRawAsync(pings.ToArray());

        // Frames are read in order: once this message is delivered, every ping has been answered (in the one slot).
        await ws.SendTextAsync("4pinged");
        Assert.Equal("pinged", (await server.Handler.NextMessageAsync(session.Id)).Text);
        Assert.Equal(1, transport.PendingControlFrames);
        Assert.Equal(stalled.WebSocketFrame.Length + PongFrame, session.PendingBytes);

        // Without the pong this would fill the buffer exactly; with it, it passes the limit.
        Assert.False(session.Send([last]));
        Assert.Equal("send buffer full", await server.Handler.ClosedAsync(session.Id));
        await transport.Completion.WaitAsync(EngineTestServer.Timeout);
        Assert.Equal(0, session.PendingBytes);
    }

    [Fact]
    public async Task A_polling_client_that_stops_polling_is_closed_once_the_buffer_is_full()
    {
        await using var server = await EngineTestServer.StartAsync(options => options.MaxSendBufferSize = Limit);
        var sid = await server.HandshakeAsync();
        var session = (EngineSession)server.Handler.Connection(sid);

        var size = Message.WebSocketFrame.Length;
        var accepted = 0;
        while (session.Send([Message]))
        {
            accepted++;
            Assert.True(session.PendingBytes <= Limit + size);
            Assert.True(accepted < 10_000, "no limit");
        }

        Assert.Equal(Limit / size, accepted);
        Assert.Equal("send buffer full", await server.Handler.ClosedAsync(sid));
        Assert.Equal(HttpStatusCode.BadRequest, (await server.GetAsync(sid)).Status);
    }

    [Fact]
    public async Task What_a_client_reads_frees_its_buffer()
    {
        await using var server = await EngineTestServer.StartAsync(options => options.MaxSendBufferSize = Limit);
        var sid = await server.HandshakeAsync();
        var session = (EngineSession)server.Handler.Connection(sid);

        // Twice the limit in total, read as it comes: never closed.
        for (var round = 0; round < 4; round++)
        {
            for (var i = 0; i < Limit / 2 / Message.WebSocketFrame.Length; i++)
            {
                Assert.True(session.Send([Message]));
            }

            var (status, body) = await server.GetAsync(sid);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.StartsWith("4xxx", body, StringComparison.Ordinal);
            Assert.Equal(0, session.PendingBytes);
        }

        Assert.False(server.Handler.IsClosed(sid));
    }

    [Fact]
    public async Task A_send_larger_than_the_limit_goes_through_when_nothing_waits()
    {
        await using var server = await EngineTestServer.StartAsync(options => options.MaxSendBufferSize = 1024);
        var sid = await server.HandshakeAsync();
        var connection = server.Handler.Connection(sid);
        var large = "4" + new string('y', 4000);

        Assert.True(connection.Send([EnginePacket.FromText(large)]));
        Assert.Equal((HttpStatusCode.OK, large), await server.GetAsync(sid));
        Assert.False(server.Handler.IsClosed(sid));
    }
}
