using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using OrleansRooms.Engine;

namespace OrleansRooms.Tests.Engine;

public sealed class EnginePollingTests
{
    [Fact]
    public async Task Post_delivers_a_message_and_answers_ok()
    {
        await using var server = await EngineTestServer.StartAsync();
        var sid = await server.HandshakeAsync();

        var post = await server.PostAsync(sid, "4hello");

        Assert.Equal((HttpStatusCode.OK, "ok"), post);
        Assert.Equal("hello", (await server.Handler.NextMessageAsync(sid)).Text);
        Assert.Equal((HttpStatusCode.OK, "4hello"), await server.GetAsync(sid));
    }

    [Fact]
    public async Task Payload_packets_are_split_on_record_separator_and_binary_is_base64()
    {
        await using var server = await EngineTestServer.StartAsync();
        var sid = await server.HandshakeAsync();

        Assert.Equal((HttpStatusCode.OK, "ok"), await server.PostAsync(sid, "4test1\u001e4test2\u001ebAQIDBA==\u001e4€"));

        Assert.Equal("test1", (await server.Handler.NextMessageAsync(sid)).Text);
        Assert.Equal("test2", (await server.Handler.NextMessageAsync(sid)).Text);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, (await server.Handler.NextMessageAsync(sid)).Binary);
        Assert.Equal("€", (await server.Handler.NextMessageAsync(sid)).Text);
        using var response = await server.Http.GetAsync(server.PollingPath(sid));
        Assert.Equal("text/plain; charset=UTF-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("4test1\u001e4test2\u001ebAQIDBA==\u001e4€"u8.ToArray(), await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Get_waits_for_packets_sent_later()
    {
        await using var server = await EngineTestServer.StartAsync();
        var sid = await server.HandshakeAsync();
        var connection = server.Handler.Connection(sid);

        var poll = server.GetAsync(sid);
        await WaitForParkedGetAsync(connection);
        Assert.True(connection.TrySendVolatile([EnginePacket.FromText("4first")]));
        Assert.Equal((HttpStatusCode.OK, "4first"), await poll);

        // Sends between GETs are coalesced into the next GET.
        Assert.True(connection.Send([EnginePacket.FromText("4a"), EnginePacket.FromBinary([0xFF])]));
        Assert.True(connection.Send([EnginePacket.FromText("4b")]));
        Assert.Equal((HttpStatusCode.OK, "4a\u001eb/w==\u001e4b"), await server.GetAsync(sid));
    }

    [Fact]
    public async Task Volatile_packets_are_dropped_unless_a_get_is_waiting()
    {
        await using var server = await EngineTestServer.StartAsync();
        var sid = await server.HandshakeAsync();
        var connection = server.Handler.Connection(sid);

        Assert.False(connection.TrySendVolatile([EnginePacket.FromText("4dropped")]));
        connection.Send([EnginePacket.FromText("4kept")]);
        Assert.Equal((HttpStatusCode.OK, "4kept"), await server.GetAsync(sid));
    }

    [Fact]
    public async Task Invalid_packet_answers_400_and_closes_with_parse_error()
    {
        await using var server = await EngineTestServer.StartAsync();
        var sid = await server.HandshakeAsync();

        var post = await server.PostAsync(sid, "abc");

        Assert.Equal(HttpStatusCode.BadRequest, post.Status);
        Assert.Equal("parse error", await server.Handler.ClosedAsync(sid));
        Assert.Equal(HttpStatusCode.BadRequest, (await server.GetAsync(sid)).Status);
        Assert.Equal(0, server.Engine.OpenSessionCount);
    }

    [Fact]
    public async Task Invalid_base64_is_a_parse_error()
    {
        await using var server = await EngineTestServer.StartAsync();
        var sid = await server.HandshakeAsync();
        Assert.Equal(HttpStatusCode.BadRequest, (await server.PostAsync(sid, "b!!!")).Status);
        Assert.Equal("parse error", await server.Handler.ClosedAsync(sid));
    }

    [Fact]
    public async Task Duplicate_get_closes_the_session()
    {
        await using var server = await EngineTestServer.StartAsync();
        var sid = await server.HandshakeAsync();
        var connection = server.Handler.Connection(sid);

        var first = server.GetAsync(sid);
        await WaitForParkedGetAsync(connection);
        var second = await server.GetAsync(sid);

        Assert.Equal(HttpStatusCode.BadRequest, second.Status);
        Assert.Equal((HttpStatusCode.OK, "1"), await first);
        Assert.Equal("transport error", await server.Handler.ClosedAsync(sid));
        Assert.Equal(HttpStatusCode.BadRequest, (await server.GetAsync(sid)).Status);
    }

    [Fact]
    public async Task Duplicate_post_closes_the_session()
    {
        await using var server = await EngineTestServer.StartAsync();
        var sid = await server.HandshakeAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        using var slow = new SlowContent("4one\u001e"u8.ToArray(), release.Task);
        var firstPost = server.Http.PostAsync(server.PollingPath(sid), slow);
        Assert.Equal("one", (await server.Handler.NextMessageAsync(sid)).Text);

        var second = await server.PostAsync(sid, "4two");
        release.SetResult();

        Assert.Equal(HttpStatusCode.BadRequest, second.Status);
        Assert.Equal("transport error", await server.Handler.ClosedAsync(sid));
        try
        {
            (await firstPost).Dispose();
        }
        catch (HttpRequestException)
        {
            // The first POST may be cut short; either way the session is gone.
        }

        Assert.Equal(HttpStatusCode.BadRequest, (await server.GetAsync(sid)).Status);
    }

    [Fact]
    public async Task Payload_over_MaxHttpBufferSize_gets_413_and_closes_the_session()
    {
        await using var server = await EngineTestServer.StartAsync(options => options.MaxHttpBufferSize = 100);
        var sid = await server.HandshakeAsync();

        Assert.Equal(HttpStatusCode.OK, (await server.PostAsync(sid, "4" + new string('a', 99))).Status);
        var post = await server.PostAsync(sid, "4" + new string('a', 100));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, post.Status);
        Assert.Equal("transport error", await server.Handler.ClosedAsync(sid));
    }

    [Theory]
    [InlineData("101")]
    [InlineData("2147483648")]
    [InlineData("9223372036854775807")]
    public async Task Announced_length_over_MaxHttpBufferSize_gets_413_before_the_body(string contentLength)
    {
        await using var server = await EngineTestServer.StartAsync(options => options.MaxHttpBufferSize = 100);
        var sid = await server.HandshakeAsync();

        // Only a few bytes of the announced body are sent: the answer comes from the header.
        var head = await RawPostAsync(server, sid, $"Content-Length: {contentLength}\r\n", "4abc");

        Assert.StartsWith("HTTP/1.1 413 ", head, StringComparison.Ordinal);
        Assert.Equal("transport error", await server.Handler.ClosedAsync(sid));
    }

    [Theory]
    [InlineData("9223372036854775808")]
    [InlineData("99999999999999999999999999999")]
    [InlineData("-1")]
    public async Task Content_length_that_is_not_a_long_is_refused_by_Kestrel_and_the_session_goes_on(string contentLength)
    {
        await using var server = await EngineTestServer.StartAsync(options => options.MaxHttpBufferSize = 100);
        var sid = await server.HandshakeAsync();

        // Kestrel refuses the header before the request reaches the server, as Node's parser does.
        var head = await RawPostAsync(server, sid, $"Content-Length: {contentLength}\r\n", "4abc");

        Assert.StartsWith("HTTP/1.1 400 ", head, StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.OK, "ok"), await server.PostAsync(sid, "4after"));
        Assert.Equal("after", (await server.Handler.NextMessageAsync(sid)).Text);
    }

    [Fact]
    public async Task Chunk_size_that_overflows_gets_400_and_closes_the_session()
    {
        await using var server = await EngineTestServer.StartAsync(options => options.MaxHttpBufferSize = 100);
        var sid = await server.HandshakeAsync();

        var head = await RawPostAsync(server, sid, "Transfer-Encoding: chunked\r\n", "FFFFFFFFFFFFFFFFFFFF\r\n4abc");

        Assert.StartsWith("HTTP/1.1 400 ", head, StringComparison.Ordinal);
        Assert.Equal("transport error", await server.Handler.ClosedAsync(sid));
    }

    [Fact]
    public async Task Oversized_chunked_payload_gets_413()
    {
        await using var server = await EngineTestServer.StartAsync(options => options.MaxHttpBufferSize = 100);
        var sid = await server.HandshakeAsync();
        using var content = new SlowContent(Encoding.UTF8.GetBytes("4" + new string('a', 300)), Task.CompletedTask);

        using var response = await server.Http.PostAsync(server.PollingPath(sid), content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("transport error", await server.Handler.ClosedAsync(sid));
    }

    [Fact]
    public async Task Packets_cut_across_reads_are_delivered_whole_and_in_order()
    {
        await using var server = await EngineTestServer.StartAsync();
        var sid = await server.HandshakeAsync();
        string[] parts = ["4one\u001e4tw", "o\u001e", "4th", "ree\u001e4€"];
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.BaseUri.Host, server.BaseUri.Port);
        var stream = tcp.GetStream();
        var length = parts.Sum(p => Encoding.UTF8.GetByteCount(p));
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST {server.PollingPath(sid)} HTTP/1.1\r\nHost: {server.BaseUri.Authority}\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: {length}\r\n\r\n"));

        // Each part is sent once the server has taken the packets completed by the one before, so reads end mid-packet.
        await stream.WriteAsync(Encoding.UTF8.GetBytes(parts[0]));
        Assert.Equal("one", (await server.Handler.NextMessageAsync(sid)).Text);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(parts[1]));
        Assert.Equal("two", (await server.Handler.NextMessageAsync(sid)).Text);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(parts[2]));
        await stream.WriteAsync(Encoding.UTF8.GetBytes(parts[3]));
        Assert.Equal("three", (await server.Handler.NextMessageAsync(sid)).Text);
        Assert.Equal("€", (await server.Handler.NextMessageAsync(sid)).Text);

        var response = new byte[64];
        using var timeout = new CancellationTokenSource(EngineTestServer.Timeout);
        var read = await stream.ReadAsync(response, timeout.Token);
        Assert.StartsWith("HTTP/1.1 200 ", Encoding.ASCII.GetString(response, 0, read), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Aborted_post_closes_the_session_quietly_and_the_server_keeps_answering()
    {
        var logs = new LogRecorder();
        await using (var server = await EngineTestServer.StartAsync(logs: logs))
        {
            for (var i = 0; i < 50; i++)
            {
                var sid = await server.HandshakeAsync();
                using (var tcp = new TcpClient())
                {
                    // 5 of the 100 bytes announced, then the connection is gone. The client leaves once the server
                    // has read them (the first packet is delivered): the last one is cut, and then the body ends.
                    await tcp.ConnectAsync(server.BaseUri.Host, server.BaseUri.Port);
                    var request = $"POST {server.PollingPath(sid)} HTTP/1.1\r\nHost: {server.BaseUri.Authority}\r\n" +
                        "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 100\r\n\r\n4a\u001e4x";
                    await tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes(request));
                    Assert.Equal("a", (await server.Handler.NextMessageAsync(sid)).Text);
                }

                Assert.Equal("transport error", await server.Handler.ClosedAsync(sid));
            }

            var last = await server.HandshakeAsync();
            Assert.Equal((HttpStatusCode.OK, "ok"), await server.PostAsync(last, "4after"));
            Assert.Equal("after", (await server.Handler.NextMessageAsync(last)).Text);
        }

        // Disposed: every request has ended, so everything it logged is recorded.
        Assert.True(logs.Entries.All(e => e.Level < LogLevel.Warning), logs.Describe(LogLevel.Warning));
    }

    [Fact]
    public async Task Client_close_packet_closes_and_releases_the_pending_get_with_noop()
    {
        await using var server = await EngineTestServer.StartAsync();
        var sid = await server.HandshakeAsync();
        var poll = server.GetAsync(sid);
        await WaitForParkedGetAsync(server.Handler.Connection(sid));

        Assert.Equal((HttpStatusCode.OK, "ok"), await server.PostAsync(sid, "1"));

        Assert.Equal((HttpStatusCode.OK, "6"), await poll);
        Assert.Equal("transport close", await server.Handler.ClosedAsync(sid));
        Assert.Equal(HttpStatusCode.BadRequest, (await server.GetAsync(sid)).Status);
    }

    [Fact]
    public async Task Server_close_flushes_queued_packets_then_sends_close()
    {
        await using var server = await EngineTestServer.StartAsync();
        var sid = await server.HandshakeAsync();
        var connection = server.Handler.Connection(sid);

        connection.Send([EnginePacket.FromText("4a")]);
        connection.Send([EnginePacket.FromText("4b")]);
        connection.Close();

        Assert.Equal("forced close", await server.Handler.ClosedAsync(sid));
        Assert.False(connection.Send([EnginePacket.FromText("4late")]));
        Assert.Equal((HttpStatusCode.OK, "4a\u001e4b\u001e1"), await server.GetAsync(sid));
        Assert.Equal(HttpStatusCode.BadRequest, (await server.GetAsync(sid)).Status);
    }

    [Fact]
    public async Task Server_close_answers_a_pending_get_with_close()
    {
        await using var server = await EngineTestServer.StartAsync();
        var sid = await server.HandshakeAsync();
        var connection = server.Handler.Connection(sid);
        var poll = server.GetAsync(sid);
        await WaitForParkedGetAsync(connection);

        connection.Close();

        Assert.Equal((HttpStatusCode.OK, "1"), await poll);
        Assert.Equal("forced close", await server.Handler.ClosedAsync(sid));
    }

    [Fact]
    public async Task Cancelled_get_closes_the_session()
    {
        await using var server = await EngineTestServer.StartAsync();
        var sid = await server.HandshakeAsync();
        using var cancel = new CancellationTokenSource();
        var poll = server.Http.GetAsync(server.PollingPath(sid), cancel.Token);
        await WaitForParkedGetAsync(server.Handler.Connection(sid));

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => poll);

        Assert.Equal("transport error", await server.Handler.ClosedAsync(sid));
    }

    [Fact]
    public async Task Heartbeat_pings_and_pongs_keep_the_session()
    {
        var time = new FakeTimeProvider();
        await using var server = await EngineTestServer.StartAsync(
            options =>
            {
                options.PingInterval = TimeSpan.FromMilliseconds(100);
                options.PingTimeout = TimeSpan.FromSeconds(2);
            },
            time: time);
        var sid = await server.HandshakeAsync();
        var connection = server.Handler.Connection(sid);

        for (var i = 0; i < 3; i++)
        {
            var poll = server.GetAsync(sid);
            await WaitForParkedGetAsync(connection);
            time.Advance(TimeSpan.FromMilliseconds(100));
            Assert.Equal((HttpStatusCode.OK, "2"), await poll);
            Assert.Equal((HttpStatusCode.OK, "ok"), await server.PostAsync(sid, "3"));
        }

        time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(server.Handler.IsClosed(sid));
    }

    [Fact]
    public async Task Missing_pong_closes_with_ping_timeout()
    {
        var time = new FakeTimeProvider();
        await using var server = await EngineTestServer.StartAsync(
            options =>
            {
                options.PingInterval = TimeSpan.FromMilliseconds(100);
                options.PingTimeout = TimeSpan.FromMilliseconds(100);
            },
            time: time);
        var sid = await server.HandshakeAsync();

        time.Advance(TimeSpan.FromMilliseconds(200));

        Assert.Equal("ping timeout", await server.Handler.ClosedAsync(sid));
        Assert.Equal(HttpStatusCode.BadRequest, (await server.GetAsync(sid)).Status);
        Assert.Equal(0, server.Engine.OpenSessionCount);
    }

    [Fact]
    public async Task Shutdown_closes_every_session()
    {
        await using var server = await EngineTestServer.StartAsync();
        var first = await server.HandshakeAsync();
        var second = await server.HandshakeAsync();

        await server.Engine.ShutdownAsync();

        Assert.Equal("server shutting down", await server.Handler.ClosedAsync(first));
        Assert.Equal("server shutting down", await server.Handler.ClosedAsync(second));
        Assert.Equal(0, server.Engine.OpenSessionCount);
    }

    /// <summary>
    /// A server that is stopping opens no session: a client reconnecting at that moment would get a session that dies
    /// at once, and its next request fails, where a refused handshake makes it retry, on the next server.
    /// </summary>
    [Fact]
    public async Task A_handshake_during_shutdown_is_refused_with_503()
    {
        await using var server = await EngineTestServer.StartAsync();
        await server.Engine.ShutdownAsync();

        using var response = await server.Http.GetAsync("/socket.io/?EIO=4&transport=polling");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("{\"code\":3,\"message\":\"Server shutting down\"}", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, server.Engine.OpenSessionCount);
    }

    /// <summary>A POST written byte for byte (headers as given); returns the response head.</summary>
    private static async Task<string> RawPostAsync(EngineTestServer server, string sid, string headers, string body)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.BaseUri.Host, server.BaseUri.Port);
        var stream = tcp.GetStream();
        var request = $"POST {server.PollingPath(sid)} HTTP/1.1\r\nHost: {server.BaseUri.Authority}\r\nContent-Type: text/plain;charset=UTF-8\r\n{headers}\r\n{body}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var timeout = new CancellationTokenSource(EngineTestServer.Timeout);
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, timeout.Token) == 0)
            {
                break;
            }

            head.Append((char)one[0]);
        }

        return head.ToString();
    }

    internal static Task WaitForParkedGetAsync(IEngineConnection connection)
    {
        var session = (EngineSession)connection;
        return ((RecordingHandler)session.Server.Handler).WaitForParkedGetAsync(session);
    }

    /// <summary>A chunked body: <paramref name="head"/> at once, the end only when <paramref name="release"/> completes.</summary>
    private sealed class SlowContent(byte[] head, Task release) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(head);
            await stream.FlushAsync();
            await release;
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
