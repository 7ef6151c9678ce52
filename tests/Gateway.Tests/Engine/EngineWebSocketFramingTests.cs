using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace OrleansRooms.Tests.Engine;

/// <summary>RFC 6455 framing checked byte by byte over a raw TCP connection.</summary>
public sealed class EngineWebSocketFramingTests
{
    [Fact]
    public async Task Handshake_answers_101_with_the_accept_key_and_a_text_open_frame()
    {
        await using var server = await EngineTestServer.StartAsync();
        await using var ws = await RawWebSocket.ConnectAsync(server.BaseUri, "EIO=4&transport=websocket");

        Assert.StartsWith("HTTP/1.1 101 Switching Protocols\r\n", ws.ResponseHead, StringComparison.Ordinal);
        // The sample key and answer of RFC 6455 §1.3.
        Assert.Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", ws.ResponseHead, StringComparison.Ordinal);
        Assert.DoesNotContain("Sec-WebSocket-Extensions", ws.ResponseHead, StringComparison.Ordinal);
        var (first, payload) = await ws.ReadFrameAsync();
        Assert.Equal(0x81, first);
        Assert.StartsWith("0{\"sid\":\"", Encoding.UTF8.GetString(payload), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not-a-key", "13")]
    [InlineData(RawWebSocket.SampleKey, "8")]
    public async Task Invalid_handshake_is_refused(string key, string version)
    {
        await using var server = await EngineTestServer.StartAsync();
        await using var ws = await RawWebSocket.ConnectAsync(server.BaseUri, "EIO=4&transport=websocket", key, version);
        Assert.StartsWith("HTTP/1.1 400 ", ws.ResponseHead, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upgrade_over_Kestrels_limit_of_upgraded_connections_gets_503_and_the_server_keeps_serving()
    {
        await using var server = await EngineTestServer.StartAsync(kestrel: k => k.Limits.MaxConcurrentUpgradedConnections = 1);
        await using var first = await OpenAsync(server);
        var firstId = (await server.Handler.NextOpenedAsync()).Id;

        await using var refused = await RawWebSocket.ConnectAsync(server.BaseUri, "EIO=4&transport=websocket");
        Assert.StartsWith("HTTP/1.1 503 ", refused.ResponseHead, StringComparison.Ordinal);
        Assert.DoesNotContain("Upgrade: websocket", refused.ResponseHead, StringComparison.OrdinalIgnoreCase);

        // The open connection still works, and so do new long-polling sessions.
        await first.SendTextAsync("4still here");
        Assert.Equal("still here", (await server.Handler.NextMessageAsync(firstId)).Text);
        await server.HandshakeAsync();
    }

    [Fact]
    public async Task Unmasked_client_frame_closes_with_1002()
    {
        await using var server = await EngineTestServer.StartAsync();
        await using var ws = await OpenAsync(server);

        await ws.SendFrameAsync(0x81, "4hello"u8.ToArray(), mask: false);

        Assert.Equal(1002, await ws.ReadCloseStatusAsync());
        Assert.Equal("transport error", await server.Handler.ClosedAsync((await server.Handler.NextOpenedAsync()).Id));
    }

    [Fact]
    public async Task Reserved_bits_and_unknown_opcodes_close_with_1002()
    {
        await using var server = await EngineTestServer.StartAsync();
        await using (var ws = await OpenAsync(server))
        {
            await ws.SendFrameAsync(0xC1, "4x"u8.ToArray());
            Assert.Equal(1002, await ws.ReadCloseStatusAsync());
        }

        await using (var ws = await OpenAsync(server))
        {
            await ws.SendFrameAsync(0x83, "4x"u8.ToArray());
            Assert.Equal(1002, await ws.ReadCloseStatusAsync());
        }

        await using (var ws = await OpenAsync(server))
        {
            // A control frame may not be fragmented.
            await ws.SendFrameAsync(0x09, "x"u8.ToArray());
            Assert.Equal(1002, await ws.ReadCloseStatusAsync());
        }
    }

    [Fact]
    public async Task Message_over_MaxHttpBufferSize_closes_with_1009()
    {
        await using var server = await EngineTestServer.StartAsync(options => options.MaxHttpBufferSize = 100);
        await using var ws = await OpenAsync(server);

        // Only the header: the server must refuse from the announced length, without buffering the payload.
        await ws.SendFrameAsync(0x82, [], claimedLength: 1000);

        Assert.Equal(1009, await ws.ReadCloseStatusAsync());
    }

    [Fact]
    public async Task Fragmented_message_over_MaxHttpBufferSize_closes_with_1009()
    {
        await using var server = await EngineTestServer.StartAsync(options => options.MaxHttpBufferSize = 100);
        await using var ws = await OpenAsync(server);

        await ws.SendFrameAsync(0x01, Encoding.UTF8.GetBytes("4" + new string('a', 60)));
        await ws.SendFrameAsync(0x80, Encoding.UTF8.GetBytes(new string('a', 60)));

        Assert.Equal(1009, await ws.ReadCloseStatusAsync());
    }

    [Fact]
    public async Task Continuation_whose_length_overflows_the_message_sum_closes_with_1009_before_its_payload()
    {
        const int maxPayload = 1000;
        await using var server = await EngineTestServer.StartAsync(options => options.MaxHttpBufferSize = maxPayload);
        await using var ws = await OpenAsync(server);
        var connection = await server.Handler.NextOpenedAsync();

        // 1 byte, then a continuation claiming 2^63 - 1 bytes: the message would be 2^63 bytes, one more than a long
        // holds. Only MaxPayload + 1 of them are sent: the close must come from the header, not from buffering.
        await ws.SendFrameAsync(0x01, "4"u8.ToArray());
        await ws.SendFrameAsync(0x80, new byte[maxPayload + 1], claimedLength: long.MaxValue);

        Assert.Equal(1009, await ws.ReadCloseStatusAsync());
        Assert.Equal("transport error", await server.Handler.ClosedAsync(connection.Id));
    }

    [Theory]
    [InlineData(100, 1000)]
    [InlineData(999, 1)]
    public async Task Fragmented_message_of_exactly_MaxHttpBufferSize_is_delivered(int first, int second)
    {
        await using var server = await EngineTestServer.StartAsync(options => options.MaxHttpBufferSize = first + second);
        await using var ws = await OpenAsync(server);

        await ws.SendFrameAsync(0x01, Encoding.UTF8.GetBytes("4" + new string('a', first - 1)));
        await ws.SendFrameAsync(0x80, Encoding.UTF8.GetBytes(new string('b', second)));

        Assert.Equal("4" + new string('a', first - 1) + new string('b', second), await ws.ReadTextAsync());
    }

    [Fact]
    public async Task Invalid_utf8_text_closes_with_1007()
    {
        await using var server = await EngineTestServer.StartAsync();
        await using var ws = await OpenAsync(server);

        await ws.SendFrameAsync(0x81, [(byte)'4', 0xC3, 0x28]);

        Assert.Equal(1007, await ws.ReadCloseStatusAsync());
    }

    [Fact]
    public async Task Fragmented_message_is_reassembled_around_a_ping()
    {
        await using var server = await EngineTestServer.StartAsync();
        await using var ws = await OpenAsync(server);

        await ws.SendFrameAsync(0x01, "4he"u8.ToArray());
        await ws.SendFrameAsync(0x89, "hi"u8.ToArray());
        // A multi-byte character split across fragments is still valid UTF-8 once reassembled.
        var euro = "€"u8.ToArray();
        await ws.SendFrameAsync(0x00, [(byte)'l', (byte)'l', euro[0]]);
        await ws.SendFrameAsync(0x80, [euro[1], euro[2], (byte)'o']);

        var (first, payload) = await ws.ReadFrameAsync();
        Assert.Equal(0x8A, first);
        Assert.Equal("hi"u8.ToArray(), payload);
        Assert.Equal("4hell€o", await ws.ReadTextAsync());
    }

    [Fact]
    public async Task Ping_gets_a_pong_with_the_same_payload()
    {
        await using var server = await EngineTestServer.StartAsync();
        await using var ws = await OpenAsync(server);

        await ws.SendFrameAsync(0x89, "are you there"u8.ToArray());

        var (first, payload) = await ws.ReadFrameAsync();
        Assert.Equal(0x8A, first);
        Assert.Equal("are you there"u8.ToArray(), payload);
    }

    [Fact]
    public async Task Ping_flood_from_a_client_that_does_not_read_keeps_one_pong_pending_answering_the_last_ping()
    {
        // However long the flood takes on a busy machine, the heartbeat may not close the session meanwhile.
        await using var server = await EngineTestServer.StartAsync(options => options.PingInterval = TimeSpan.FromHours(1));
        // A small receive window: the server's writes stall early, as they do for a client that never reads.
        await using var ws = await RawWebSocket.ConnectAsync(server.BaseUri, "EIO=4&transport=websocket", receiveBufferSize: 4096);
        Assert.StartsWith("0{", await ws.ReadTextAsync(), StringComparison.Ordinal);
        var connection = await server.Handler.NextOpenedAsync();
        var transport = Assert.Single(server.Engine.WebSockets);

        // 200,000 pings of 125 bytes (25 MB of pongs if each were answered), numbered in their first 4 bytes.
        const int pings = 200_000;
        const int perWrite = 1000;
        var payload = new byte[125];
        using var batch = new MemoryStream();
        for (var i = 0; i < pings; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(payload, i);
            batch.Write(RawWebSocket.Frame(0x89, payload));
            if ((i + 1) % perWrite == 0)
            {
                await ws.SendRawAsync(batch.GetBuffer().AsMemory(0, (int)batch.Length));
                batch.SetLength(0);
            }
        }

        // Frames are read in order: once this message is delivered, every ping has been read.
        await ws.SendTextAsync("4flood over");
        Assert.Equal("flood over", (await server.Handler.NextMessageAsync(connection.Id, TimeSpan.FromMinutes(1))).Text);
        Assert.InRange(transport.PendingControlFrames, 0, 1);

        // Reading now: what was written before the stall, then one pong for the last ping, then the echo.
        var pongs = 0;
        byte[]? lastPong = null;
        using var drain = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (true)
        {
            var (first, data) = await ws.ReadFrameAsync(drain.Token);
            if (first == 0x8A)
            {
                pongs++;
                lastPong = data;
                continue;
            }

            Assert.Equal("4flood over", Encoding.UTF8.GetString(data));
            break;
        }

        Assert.NotNull(lastPong);
        Assert.Equal(pings - 1, BinaryPrimitives.ReadInt32BigEndian(lastPong));
        Assert.InRange(pongs, 1, pings - 1);
    }

    [Fact]
    public async Task Close_frame_is_echoed()
    {
        await using var server = await EngineTestServer.StartAsync();
        await using var ws = await OpenAsync(server);
        var connection = await server.Handler.NextOpenedAsync();

        await ws.SendFrameAsync(0x88, [0x0F, 0xA0, (byte)'b', (byte)'y', (byte)'e']);

        Assert.Equal(4000, await ws.ReadCloseStatusAsync());
        Assert.Equal("transport close", await server.Handler.ClosedAsync(connection.Id));
    }

    [Theory]
    [InlineData(200)]
    [InlineData(70_000)]
    public async Task Extended_payload_lengths_round_trip(int length)
    {
        await using var server = await EngineTestServer.StartAsync();
        await using var ws = await OpenAsync(server);
        var data = RandomNumberGenerator.GetBytes(length);

        await ws.SendFrameAsync(0x82, data);
        await ws.SendFrameAsync(0x81, Encoding.UTF8.GetBytes("4" + new string('z', length)));

        var (first, payload) = await ws.ReadFrameAsync();
        Assert.Equal(0x82, first);
        Assert.Equal(data, payload);
        Assert.Equal("4" + new string('z', length), await ws.ReadTextAsync());
    }

    private static async Task<RawWebSocket> OpenAsync(EngineTestServer server)
    {
        var ws = await RawWebSocket.ConnectAsync(server.BaseUri, "EIO=4&transport=websocket");
        Assert.StartsWith("0{", await ws.ReadTextAsync(), StringComparison.Ordinal);
        return ws;
    }
}
