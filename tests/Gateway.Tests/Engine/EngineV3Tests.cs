using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using OrleansRooms.Engine;

namespace OrleansRooms.Tests.Engine;

/// <summary>
/// Engine.IO v3 on the wire (<c>AllowEIO3</c>), as socket.io-client 2.x and the v3 spec send it: length-prefixed polling
/// payloads (lengths in UTF-16 characters, base64 binary for <c>b64=1</c> clients, the binary framing for XHR2 ones),
/// binary WebSocket frames led by their type byte, and the heartbeat driven by the client.
/// </summary>
public sealed class EngineV3Tests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan OneMillisecond = TimeSpan.FromMilliseconds(1);

    [Fact]
    public async Task The_handshake_is_a_length_prefixed_open_packet_without_maxPayload()
    {
        await using var server = await StartAsync();
        var body = await server.Http.GetStringAsync("/socket.io/?EIO=3&transport=polling&b64=1");

        var colon = body.IndexOf(':', StringComparison.Ordinal);
        Assert.Equal(body.Length - colon - 1, int.Parse(body[..colon], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Matches("""^0\{"sid":"[^"]+","upgrades":\["websocket"\],"pingInterval":25000,"pingTimeout":20000\}$""", body[(colon + 1)..]);
    }

    [Fact]
    public async Task The_client_pings_the_server_answers_and_silence_closes_after_pingInterval_plus_pingTimeout()
    {
        var time = new FakeTimeProvider();
        var start = time.GetUtcNow();
        await using var server = await StartAsync(time);
        var sid = await HandshakeAsync(server, "&b64=1");

        // No ping from the server: the client pings, just before the deadline set by the open (a tick of the timing
        // wheel before it, so that the next deadline falls on a tick too).
        time.SetUtcNow(start + Interval + Timeout - EngineServer.TimerResolution);
        Assert.False(server.Handler.IsClosed(sid));
        Assert.Equal((HttpStatusCode.OK, "ok"), await PostTextAsync(server, sid, "6:2hello"));
        Assert.Equal((HttpStatusCode.OK, "6:3hello"), await GetAsync(server, sid));

        // The ping moved the deadline to pingInterval + pingTimeout after it.
        var pinged = time.GetUtcNow();
        time.SetUtcNow(pinged + Interval + Timeout - OneMillisecond);
        Assert.False(server.Handler.IsClosed(sid));
        time.SetUtcNow(pinged + Interval + Timeout);
        Assert.Equal("ping timeout", await server.Handler.ClosedAsync(sid));
    }

    [Fact]
    public async Task A_client_ping_just_after_the_deadline_finds_the_session_closed_before_the_wheel_sweeps_it()
    {
        var time = new FakeTimeProvider();
        var start = time.GetUtcNow();
        await using var server = await StartAsync(time);

        // Opened 1 ms after the wheel's origin: the deadline (501 ms) falls between two ticks (500 and 504 ms).
        time.Advance(OneMillisecond);
        var sid = await HandshakeAsync(server, "&b64=1");
        time.SetUtcNow(start + OneMillisecond + Interval + Timeout + OneMillisecond);
        Assert.False(server.Handler.IsClosed(sid));

        Assert.Equal(HttpStatusCode.BadRequest, (await PostTextAsync(server, sid, "1:2")).Status);
        Assert.Equal("ping timeout", await server.Handler.ClosedAsync(sid));
    }

    [Fact]
    public async Task A_pong_from_the_client_closes_the_session_as_a_heartbeat_the_wrong_way()
    {
        await using var server = await StartAsync();
        var sid = await HandshakeAsync(server, "&b64=1");

        Assert.Equal(HttpStatusCode.BadRequest, (await PostTextAsync(server, sid, "1:3")).Status);
        Assert.Equal("transport error", await server.Handler.ClosedAsync(sid));
    }

    [Fact]
    public async Task Text_payload_lengths_count_UTF16_characters_both_ways()
    {
        await using var server = await StartAsync();
        var sid = await HandshakeAsync(server, "&b64=1");

        // "4é😀" is 4 UTF-16 characters (the emoji is a surrogate pair) and 7 UTF-8 bytes.
        Assert.Equal((HttpStatusCode.OK, "ok"), await PostTextAsync(server, sid, "4:4é😀6:4hello"));
        Assert.Equal("é😀", (await server.Handler.NextMessageAsync(sid)).Text);
        Assert.Equal("hello", (await server.Handler.NextMessageAsync(sid)).Text);
        Assert.Equal((HttpStatusCode.OK, "4:4é😀6:4hello"), await GetAsync(server, sid));
    }

    [Theory]
    [InlineData("5:4hello")]
    [InlineData("x:4hello")]
    [InlineData("6:4hello7")]
    [InlineData(":4hello")]
    [InlineData("2:4😀")]
    public async Task A_malformed_text_payload_is_refused_and_closes_the_session(string payload)
    {
        await using var server = await StartAsync();
        var sid = await HandshakeAsync(server, "&b64=1");

        Assert.Equal(HttpStatusCode.BadRequest, (await PostTextAsync(server, sid, payload)).Status);
        Assert.Equal("parse error", await server.Handler.ClosedAsync(sid));
    }

    [Theory]
    [InlineData(new byte[] { 2, 1, 255, 52 })] // neither text (0) nor binary (1)
    [InlineData(new byte[] { 0, 9, 255, 52 })] // longer than what follows
    [InlineData(new byte[] { 0, 1, 52 })] // no 255 after the length
    [InlineData(new byte[] { 1, 2, 255, 2, 7 })] // a binary packet that is not a message
    public async Task A_malformed_binary_payload_is_refused_and_closes_the_session(byte[] payload)
    {
        await using var server = await StartAsync();
        var sid = await HandshakeAsync(server, string.Empty);
        using var content = new ByteArrayContent(payload);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");

        using var post = await server.Http.PostAsync(Path(sid), content);

        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
        Assert.Equal("parse error", await server.Handler.ClosedAsync(sid));
    }

    [Fact]
    public async Task A_b64_client_sends_and_gets_binary_as_b4_base64()
    {
        await using var server = await StartAsync();
        var sid = await HandshakeAsync(server, "&b64=1");

        Assert.Equal((HttpStatusCode.OK, "ok"), await PostTextAsync(server, sid, "6:b4AQID"));
        Assert.Equal([1, 2, 3], (await server.Handler.NextMessageAsync(sid)).Binary);
        Assert.Equal((HttpStatusCode.OK, "6:b4AQID"), await GetAsync(server, sid));
    }

    [Fact]
    public async Task An_XHR2_client_sends_and_gets_binary_payloads_in_the_binary_framing()
    {
        await using var server = await StartAsync();
        var sid = await HandshakeAsync(server, string.Empty);

        // <1 binary><4><255><type 4, then 1 2 3>, then <0 text><6><255>"4hello".
        byte[] payload = [1, 4, 255, 4, 1, 2, 3, 0, 6, 255, .. "4hello"u8];
        using (var content = new ByteArrayContent(payload))
        {
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var post = await server.Http.PostAsync(Path(sid), content);
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        }

        Assert.Equal([1, 2, 3], (await server.Handler.NextMessageAsync(sid)).Binary);
        Assert.Equal("hello", (await server.Handler.NextMessageAsync(sid)).Text);

        using var get = await server.Http.GetAsync(Path(sid));
        Assert.Equal("application/octet-stream", get.Content.Headers.ContentType?.MediaType);
        Assert.Equal(payload, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Binary_WebSocket_frames_carry_their_packet_type_first()
    {
        await using var server = await StartAsync();
        await using var ws = await RawWebSocket.ConnectAsync(server.BaseUri, "EIO=3&transport=websocket");
        Assert.DoesNotContain("maxPayload", await ws.ReadTextAsync(), StringComparison.Ordinal);
        var connection = await server.Handler.NextOpenedAsync();

        await ws.SendFrameAsync(0x82, [4, 1, 2, 3]);

        Assert.Equal([1, 2, 3], (await server.Handler.NextMessageAsync(connection.Id)).Binary);
        var (first, echoed) = await ws.ReadFrameAsync();
        Assert.Equal(0x82, first);
        Assert.Equal([4, 1, 2, 3], echoed);

        await ws.SendTextAsync("2");
        Assert.Equal("3", await ws.ReadTextAsync());
    }

    [Fact]
    public async Task A_v3_session_is_refused_a_v4_request()
    {
        await using var server = await StartAsync();
        var sid = await HandshakeAsync(server, "&b64=1");

        using var response = await server.Http.GetAsync($"/socket.io/?EIO=4&transport=polling&sid={sid}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    /// <summary>A server with <c>AllowEIO3</c>; on a fake clock, with short heartbeat deadlines (on a real one, the defaults, which no test reaches).</summary>
    private static Task<EngineTestServer> StartAsync(FakeTimeProvider? time = null) =>
        EngineTestServer.StartAsync(o =>
        {
            o.AllowEIO3 = true;
            if (time is not null)
            {
                o.PingInterval = Interval;
                o.PingTimeout = Timeout;
            }
        }, time: time);

    private static string Path(string sid) => $"/socket.io/?EIO=3&transport=polling&sid={sid}";

    private static async Task<string> HandshakeAsync(EngineTestServer server, string query)
    {
        var body = await server.Http.GetStringAsync($"/socket.io/?EIO=3&transport=polling{query}");
        var start = body.IndexOf("{\"sid\":\"", StringComparison.Ordinal) + "{\"sid\":\"".Length;
        var sid = body[start..body.IndexOf('"', start)];
        await server.Handler.NextOpenAsync(sid);
        return sid;
    }

    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(EngineTestServer server, string sid)
    {
        using var response = await server.Http.GetAsync(Path(sid));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<(HttpStatusCode Status, string Body)> PostTextAsync(EngineTestServer server, string sid, string payload)
    {
        using var content = new StringContent(payload, Encoding.UTF8, "text/plain");
        using var response = await server.Http.PostAsync(Path(sid), content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
