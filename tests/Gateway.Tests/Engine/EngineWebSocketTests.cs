using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using OrleansRooms.Engine;

namespace OrleansRooms.Tests.Engine;

public sealed class EngineWebSocketTests
{
    [Fact]
    public async Task WebSocket_handshake_sends_the_open_packet_with_no_upgrades()
    {
        await using var server = await EngineTestServer.StartAsync();
        using var ws = await ConnectAsync(server, "EIO=4&transport=websocket");

        var open = await ReceiveTextAsync(ws);

        Assert.Matches("^0\\{\"sid\":\"[A-Za-z0-9_-]{20}\",\"upgrades\":\\[\\],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000\\}$", open);
        var connection = await server.Handler.NextOpenedAsync();
        Assert.Equal("websocket", connection.TransportName);
        Assert.Contains(connection.Id, open, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Text_and_binary_messages_round_trip()
    {
        await using var server = await EngineTestServer.StartAsync();
        using var ws = await ConnectAsync(server, "EIO=4&transport=websocket");
        await ReceiveTextAsync(ws);
        var connection = await server.Handler.NextOpenedAsync();

        await ws.SendAsync("4hello"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        await ws.SendAsync(new byte[] { 1, 2, 3, 4 }, WebSocketMessageType.Binary, true, CancellationToken.None);

        Assert.Equal("hello", (await server.Handler.NextMessageAsync(connection.Id)).Text);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, (await server.Handler.NextMessageAsync(connection.Id)).Binary);
        Assert.Equal("4hello", await ReceiveTextAsync(ws));
        var (type, data) = await ReceiveAsync(ws);
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, data);
    }

    [Fact]
    public async Task An_idle_WebSocket_holds_no_receive_buffer()
    {
        var pool = new CountingMemoryPool();
        await using var server = await EngineTestServer.StartAsync(receivePool: pool);
        server.Handler.Echo = false;
        var sockets = new List<ClientWebSocket>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var ws = await ConnectAsync(server, "EIO=4&transport=websocket");
                sockets.Add(ws);
                await ReceiveTextAsync(ws);
                var connection = await server.Handler.NextOpenedAsync();
                await ws.SendAsync("4hello"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
                Assert.Equal("hello", (await server.Handler.NextMessageAsync(connection.Id)).Text);
            }

            // Each message was read into a buffer of the pool, and each buffer went back once its bytes were parsed:
            // waiting for the next frame, a connection holds none.
            Assert.True(pool.Rented >= 3, $"{pool.Rented} buffers rented for 3 messages");
            await pool.AllReturnedAsync(EngineTestServer.Timeout);
            Assert.Equal(0, pool.Outstanding);
        }
        finally
        {
            foreach (var ws in sockets)
            {
                ws.Dispose();
            }
        }
    }

    [Fact]
    public async Task Client_close_frame_closes_with_transport_close()
    {
        await using var server = await EngineTestServer.StartAsync();
        using var ws = await ConnectAsync(server, "EIO=4&transport=websocket");
        await ReceiveTextAsync(ws);
        var connection = await server.Handler.NextOpenedAsync();

        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);

        Assert.Equal(WebSocketCloseStatus.NormalClosure, ws.CloseStatus);
        Assert.Equal("transport close", await server.Handler.ClosedAsync(connection.Id));
        Assert.Equal(0, server.Engine.OpenSessionCount);
    }

    [Fact]
    public async Task Client_close_packet_closes_with_transport_close()
    {
        await using var server = await EngineTestServer.StartAsync();
        using var ws = await ConnectAsync(server, "EIO=4&transport=websocket");
        await ReceiveTextAsync(ws);
        var connection = await server.Handler.NextOpenedAsync();

        await ws.SendAsync("1"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);

        Assert.Equal(WebSocketMessageType.Close, (await ReceiveAsync(ws)).Type);
        Assert.Equal("transport close", await server.Handler.ClosedAsync(connection.Id));
    }

    [Fact]
    public async Task Invalid_packet_closes_with_parse_error()
    {
        await using var server = await EngineTestServer.StartAsync();
        using var ws = await ConnectAsync(server, "EIO=4&transport=websocket");
        await ReceiveTextAsync(ws);
        var connection = await server.Handler.NextOpenedAsync();

        await ws.SendAsync("abc"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);

        Assert.Equal(WebSocketMessageType.Close, (await ReceiveAsync(ws)).Type);
        Assert.Equal("parse error", await server.Handler.ClosedAsync(connection.Id));
    }

    [Fact]
    public async Task Server_close_flushes_queued_packets_then_sends_a_close_frame()
    {
        await using var server = await EngineTestServer.StartAsync();
        server.Handler.Echo = false;
        using var ws = await ConnectAsync(server, "EIO=4&transport=websocket");
        await ReceiveTextAsync(ws);
        var connection = await server.Handler.NextOpenedAsync();

        connection.Send([EnginePacket.FromText("4a"), EnginePacket.FromText("4b")]);
        connection.Close();

        Assert.Equal("4a", await ReceiveTextAsync(ws));
        Assert.Equal("4b", await ReceiveTextAsync(ws));
        Assert.Equal(WebSocketMessageType.Close, (await ReceiveAsync(ws)).Type);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, ws.CloseStatus);
        Assert.Equal("forced close", await server.Handler.ClosedAsync(connection.Id));
    }

    [Fact]
    public async Task Heartbeat_over_websocket_and_ping_timeout()
    {
        var time = new FakeTimeProvider();
        await using var server = await EngineTestServer.StartAsync(
            options =>
            {
                options.PingInterval = TimeSpan.FromMilliseconds(100);
                options.PingTimeout = TimeSpan.FromMilliseconds(400);
            },
            time: time);
        server.Handler.Echo = false;
        using var ws = await ConnectAsync(server, "EIO=4&transport=websocket");
        await ReceiveTextAsync(ws);
        var connection = await server.Handler.NextOpenedAsync();

        for (var i = 0; i < 3; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            Assert.Equal("2", await ReceiveTextAsync(ws));
            await ws.SendAsync("3"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);

            // Packets are read in order: once the message after the pong arrived, the pong was taken.
            await ws.SendAsync("4read"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
            Assert.Equal("read", (await server.Handler.NextMessageAsync(connection.Id)).Text);
        }

        // Stop answering: the next ping goes unanswered and the session closes 400 ms after it.
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal("2", await ReceiveTextAsync(ws));
        time.Advance(TimeSpan.FromMilliseconds(400));
        Assert.Equal(WebSocketMessageType.Close, (await ReceiveAsync(ws)).Type);
        Assert.Equal("ping timeout", await server.Handler.ClosedAsync(connection.Id));
    }

    [Fact]
    public async Task Messages_are_delivered_in_order_one_at_a_time()
    {
        await using var server = await EngineTestServer.StartAsync();
        server.Handler.Echo = false;
        using var ws = await ConnectAsync(server, "EIO=4&transport=websocket");
        await ReceiveTextAsync(ws);
        var connection = await server.Handler.NextOpenedAsync();

        for (var i = 0; i < 200; i++)
        {
            await ws.SendAsync(Encoding.UTF8.GetBytes("4m" + i), WebSocketMessageType.Text, true, CancellationToken.None);
        }

        for (var i = 0; i < 200; i++)
        {
            Assert.Equal("m" + i, (await server.Handler.NextMessageAsync(connection.Id)).Text);
        }
    }

    [Fact]
    public async Task Concurrent_sends_are_all_written_in_their_groups()
    {
        await using var server = await EngineTestServer.StartAsync();
        using var ws = await ConnectAsync(server, "EIO=4&transport=websocket");
        await ReceiveTextAsync(ws);
        var connection = await server.Handler.NextOpenedAsync();

        await Parallel.ForAsync(0, 100, (i, _) =>
        {
            connection.Send([EnginePacket.FromText("4g" + i), EnginePacket.FromBinary([(byte)i])]);
            return ValueTask.CompletedTask;
        });

        var seen = new HashSet<int>();
        for (var i = 0; i < 100; i++)
        {
            var text = await ReceiveTextAsync(ws);
            var group = int.Parse(text[2..], System.Globalization.CultureInfo.InvariantCulture);
            var (type, data) = await ReceiveAsync(ws);
            Assert.Equal(WebSocketMessageType.Binary, type);
            Assert.Equal((byte)group, Assert.Single(data));
            Assert.True(seen.Add(group));
        }
    }

    [Fact]
    public async Task Upgrade_from_polling_probes_releases_polling_and_switches()
    {
        await using var server = await EngineTestServer.StartAsync();
        var sid = await server.HandshakeAsync();
        var connection = server.Handler.Connection(sid);
        var parked = server.GetAsync(sid);
        await EnginePollingTests.WaitForParkedGetAsync(connection);

        using var ws = await ConnectAsync(server, $"EIO=4&transport=websocket&sid={sid}");
        // Polling still works before the probe.
        Assert.Equal((HttpStatusCode.OK, "ok"), await server.PostAsync(sid, "4before"));
        Assert.Equal("before", (await server.Handler.NextMessageAsync(sid)).Text);
        Assert.Equal((HttpStatusCode.OK, "4before"), await parked);

        var parkedAgain = server.GetAsync(sid);
        await EnginePollingTests.WaitForParkedGetAsync(connection);
        await ws.SendAsync("2probe"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal("3probe", await ReceiveTextAsync(ws));
        Assert.Equal((HttpStatusCode.OK, "6"), await parkedAgain);

        // Packets sent while the upgrade completes wait for the WebSocket; a GET now is answered with noop.
        connection.Send([EnginePacket.FromText("4queued")]);
        Assert.Equal((HttpStatusCode.OK, "6"), await server.GetAsync(sid));
        Assert.Equal("polling", connection.TransportName);

        await ws.SendAsync("5"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal("4queued", await ReceiveTextAsync(ws));
        Assert.Equal("websocket", connection.TransportName);

        await ws.SendAsync("4hello"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal("4hello", await ReceiveTextAsync(ws));

        // Polling requests for the upgraded session are refused; a second WebSocket is closed once open.
        Assert.Equal(HttpStatusCode.BadRequest, (await server.GetAsync(sid)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await server.PostAsync(sid, "4stale")).Status);
        using var second = await ConnectAsync(server, $"EIO=4&transport=websocket&sid={sid}");
        Assert.Equal(WebSocketMessageType.Close, (await ReceiveAsync(second)).Type);
        await ws.SendAsync("4still"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal("4still", await ReceiveTextAsync(ws));
        Assert.False(server.Handler.IsClosed(sid));
        Assert.Equal(1, server.Handler.Opens(sid));
    }

    [Fact]
    public async Task Repeated_probes_from_a_client_that_does_not_read_keep_one_answer_pending()
    {
        // However long the flood takes on a busy machine, neither the upgrade nor the heartbeat may time out meanwhile.
        await using var server = await EngineTestServer.StartAsync(options =>
        {
            options.UpgradeTimeout = TimeSpan.FromHours(1);
            options.PingInterval = TimeSpan.FromHours(1);
        });
        var sid = await server.HandshakeAsync();
        await using var ws = await RawWebSocket.ConnectAsync(server.BaseUri, $"EIO=4&transport=websocket&sid={sid}", receiveBufferSize: 4096);
        Assert.StartsWith("HTTP/1.1 101 ", ws.ResponseHead, StringComparison.Ordinal);

        // 600,000 probes: 4.8 MB of answers if each were queued, more than the sockets can hold.
        var probe = RawWebSocket.Frame(0x81, "2probe"u8);
        var batch = new byte[probe.Length * 1000];
        for (var i = 0; i < 1000; i++)
        {
            probe.CopyTo(batch, i * probe.Length);
        }

        for (var i = 0; i < 600; i++)
        {
            await ws.SendRawAsync(batch);
        }

        // Frames are read in order: once this message is delivered, every probe has been read.
        await ws.SendTextAsync("5");
        await ws.SendTextAsync("4probed");
        Assert.Equal("probed", (await server.Handler.NextMessageAsync(sid, TimeSpan.FromMinutes(1))).Text);
        var transport = Assert.Single(server.Engine.WebSockets);
        Assert.InRange(transport.PendingControlFrames, 0, 1);

        // A reading client gets answers, then the echo on the upgraded transport.
        var answers = 0;
        string text;
        using var drain = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while ((text = await ws.ReadTextAsync(drain.Token)) == "3probe")
        {
            answers++;
        }

        Assert.Equal("4probed", text);
        Assert.InRange(answers, 1, 599_999);
        Assert.Equal("websocket", server.Handler.Connection(sid).TransportName);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Second_websocket_gets_101_then_a_close_and_the_first_keeps_working(bool firstUpgraded)
    {
        await using var server = await EngineTestServer.StartAsync();
        var sid = await server.HandshakeAsync();
        await using var first = await RawWebSocket.ConnectAsync(server.BaseUri, $"EIO=4&transport=websocket&sid={sid}");
        await first.SendTextAsync("2probe");
        Assert.Equal("3probe", await first.ReadTextAsync());
        if (firstUpgraded)
        {
            // Delivered over the WebSocket: the upgrade is complete.
            await first.SendTextAsync("5");
            await first.SendTextAsync("4upgraded");
            Assert.Equal("upgraded", (await server.Handler.NextMessageAsync(sid)).Text);
            Assert.Equal("4upgraded", await first.ReadTextAsync());
        }

        // As the reference server: the handshake completes, then a close frame without a status, nothing before it.
        await using (var second = await RawWebSocket.ConnectAsync(server.BaseUri, $"EIO=4&transport=websocket&sid={sid}"))
        {
            Assert.StartsWith("HTTP/1.1 101 ", second.ResponseHead, StringComparison.Ordinal);
            var (head, payload) = await second.ReadFrameAsync();
            Assert.Equal(0x88, head);
            Assert.Empty(payload);
            await second.SendFrameAsync(0x88, []);
            Assert.Equal(0, await second.ReadToEndAsync());
        }

        if (!firstUpgraded)
        {
            await first.SendTextAsync("5");
        }

        // The first WebSocket carries messages both ways, and the session never noticed the second.
        await first.SendTextAsync("4still");
        Assert.Equal("still", (await server.Handler.NextMessageAsync(sid)).Text);
        Assert.Equal("4still", await first.ReadTextAsync());
        server.Handler.Connection(sid).Send([EnginePacket.FromText("4pushed")]);
        Assert.Equal("4pushed", await first.ReadTextAsync());
        Assert.Equal("websocket", server.Handler.Connection(sid).TransportName);
        Assert.False(server.Handler.IsClosed(sid));
        Assert.Equal(1, server.Handler.Opens(sid));
    }

    [Fact]
    public async Task A_server_close_after_the_3probe_reaches_the_client_on_the_WebSocket_it_upgrades_to()
    {
        // The client has paused polling once it got 3probe: a close sent over polling, or a probe closed under it,
        // would leave it waiting (the official client then never polls again) until its own ping timeout.
        await using var server = await EngineTestServer.StartAsync();
        server.Handler.Echo = false;
        var sid = await server.HandshakeAsync();
        var connection = server.Handler.Connection(sid);
        var parked = server.GetAsync(sid);
        await EnginePollingTests.WaitForParkedGetAsync(connection);
        using var ws = await ConnectAsync(server, $"EIO=4&transport=websocket&sid={sid}");
        await ws.SendAsync("2probe"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal("3probe", await ReceiveTextAsync(ws));
        Assert.Equal((HttpStatusCode.OK, "6"), await parked);

        connection.Send([EnginePacket.FromText("4last")]);
        var shutdown = server.Engine.ShutdownAsync();
        Assert.Equal("server shutting down", await server.Handler.ClosedAsync(sid));

        await ws.SendAsync("5"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal("4last", await ReceiveTextAsync(ws));
        Assert.Equal("1", await ReceiveTextAsync(ws));
        Assert.Equal(WebSocketMessageType.Close, (await ReceiveAsync(ws)).Type);
        await shutdown.WaitAsync(EngineTestServer.Timeout);
    }

    [Fact]
    public async Task Upgrade_is_abandoned_after_UpgradeTimeout_and_polling_continues()
    {
        var time = new FakeTimeProvider();
        await using var server = await EngineTestServer.StartAsync(options => options.UpgradeTimeout = TimeSpan.FromMilliseconds(100), time: time);
        var sid = await server.HandshakeAsync();

        // The client opens the WebSocket but never completes the upgrade.
        using var ws = await ConnectAsync(server, $"EIO=4&transport=websocket&sid={sid}");
        time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.Equal("polling", server.Handler.Connection(sid).TransportName);
        time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(WebSocketMessageType.Close, (await ReceiveAsync(ws)).Type);
        Assert.Equal("polling", server.Handler.Connection(sid).TransportName);
        Assert.Equal((HttpStatusCode.OK, "ok"), await server.PostAsync(sid, "4after"));
        Assert.Equal((HttpStatusCode.OK, "4after"), await server.GetAsync(sid));
        Assert.False(server.Handler.IsClosed(sid));
    }

    [Fact]
    public async Task Upgrade_refused_when_upgrades_are_disabled()
    {
        await using var server = await EngineTestServer.StartAsync(options => options.AllowUpgrades = false);
        var sid = await server.HandshakeAsync();
        using var ws = new ClientWebSocket();
        await Assert.ThrowsAsync<WebSocketException>(() => ws.ConnectAsync(server.WebSocketUri($"EIO=4&transport=websocket&sid={sid}"), CancellationToken.None));
        Assert.Equal((HttpStatusCode.OK, "ok"), await server.PostAsync(sid, "4x"));
    }

    [Fact]
    public async Task Close_of_a_client_that_never_reads_aborts_the_connection_after_the_close_timeout()
    {
        var time = new FakeTimeProvider();
        var logs = new LogRecorder();

        // A send buffer larger than what is queued below: this is the case of a close that cannot be written, not of a
        // send buffer that fills (EngineSendBufferTests).
        await using var server = await EngineTestServer.StartAsync(options => options.MaxSendBufferSize = 32 << 20, time: time, logs: logs);
        await using var ws = await RawWebSocket.ConnectAsync(server.BaseUri, "EIO=4&transport=websocket", receiveBufferSize: 4096);
        Assert.StartsWith("0{", await ws.ReadTextAsync(), StringComparison.Ordinal);
        var connection = await server.Handler.NextOpenedAsync();
        var transport = Assert.Single(server.Engine.WebSockets);

        // 16 MB the client never reads, more than the sockets hold: neither they nor the close frame can be written.
        var large = EnginePacket.FromText("4" + new string('x', 100_000));
        for (var i = 0; i < 160; i++)
        {
            connection.Send([large]);
        }

        connection.Close();
        Assert.Equal("forced close", await server.Handler.ClosedAsync(connection.Id));
        time.Advance(WebSocketTransport.CloseTimeout - TimeSpan.FromMilliseconds(1));
        Assert.False(transport.Completion.IsCompleted);

        time.Advance(TimeSpan.FromMilliseconds(1));
        await transport.Completion.WaitAsync(EngineTestServer.Timeout);
        Assert.Empty(server.Engine.WebSockets);
        Assert.True(logs.Entries.All(e => e.Level < LogLevel.Warning), logs.Describe(LogLevel.Warning));
    }

    [Fact]
    public async Task Shutdown_closes_websockets_with_a_close_frame()
    {
        await using var server = await EngineTestServer.StartAsync();
        using var ws = await ConnectAsync(server, "EIO=4&transport=websocket");
        await ReceiveTextAsync(ws);
        var connection = await server.Handler.NextOpenedAsync();

        var shutdown = server.Engine.ShutdownAsync();
        Assert.Equal(WebSocketMessageType.Close, (await ReceiveAsync(ws)).Type);
        await shutdown.WaitAsync(EngineTestServer.Timeout);

        Assert.Equal("server shutting down", await server.Handler.ClosedAsync(connection.Id));
        Assert.Equal(0, server.Engine.OpenSessionCount);
    }

    private static async Task<ClientWebSocket> ConnectAsync(EngineTestServer server, string query)
    {
        var ws = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(EngineTestServer.Timeout);
        await ws.ConnectAsync(server.WebSocketUri(query), timeout.Token);
        return ws;
    }

    private static async Task<string> ReceiveTextAsync(ClientWebSocket ws)
    {
        var (type, data) = await ReceiveAsync(ws);
        Assert.Equal(WebSocketMessageType.Text, type);
        return Encoding.UTF8.GetString(data);
    }

    private static async Task<(WebSocketMessageType Type, byte[] Data)> ReceiveAsync(ClientWebSocket ws)
    {
        using var timeout = new CancellationTokenSource(EngineTestServer.Timeout);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await ws.ReceiveAsync(buffer, timeout.Token);
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return (result.MessageType, message.ToArray());
            }
        }
    }
}
