using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using OrleansRooms.Engine;

namespace OrleansRooms.Tests.Engine;

/// <summary>
/// The server-to-client heartbeat of Engine.IO v4: exact ping and close times on a fake clock (the wheel's ticks line
/// up with whole milliseconds of it), and the spacing of pings on a real clock.
/// </summary>
public sealed class EngineHeartbeatTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan OneMillisecond = TimeSpan.FromMilliseconds(1);

    [Fact]
    public async Task Each_ping_leaves_exactly_pingInterval_after_the_previous_one()
    {
        var time = new FakeTimeProvider();
        var start = time.GetUtcNow();
        await using var server = await StartAsync(time);
        var sid = await server.HandshakeAsync();
        var session = (EngineSession)server.Handler.Connection(sid);

        for (var n = 1; n <= 10; n++)
        {
            var poll = server.GetAsync(sid);
            await EnginePollingTests.WaitForParkedGetAsync(session);

            time.SetUtcNow(start + (n * Interval) - OneMillisecond);
            Assert.True(session.HasParkedPoll, $"ping {n} left before {n * Interval.TotalMilliseconds} ms");
            time.SetUtcNow(start + (n * Interval));
            Assert.False(session.HasParkedPoll, $"ping {n} did not leave at {n * Interval.TotalMilliseconds} ms");
            Assert.Equal((HttpStatusCode.OK, "2"), await poll);

            // The client answers 50 ms later: the next ping is still due one interval after this one, not after the pong.
            time.Advance(TimeSpan.FromMilliseconds(50));
            Assert.Equal((HttpStatusCode.OK, "ok"), await server.PostAsync(sid, "3"));
        }

        Assert.False(server.Handler.IsClosed(sid));
    }

    [Fact]
    public async Task A_silent_session_closes_exactly_pingInterval_plus_pingTimeout_after_open()
    {
        var time = new FakeTimeProvider();
        var start = time.GetUtcNow();
        await using var server = await StartAsync(time);
        var sid = await server.HandshakeAsync();

        time.SetUtcNow(start + Interval + Timeout - OneMillisecond);
        Assert.False(server.Handler.IsClosed(sid));
        time.SetUtcNow(start + Interval + Timeout);

        Assert.Equal("ping timeout", await server.Handler.ClosedAsync(sid));
        Assert.Equal((HttpStatusCode.BadRequest, "{\"code\":1,\"message\":\"Session ID unknown\"}"), await server.GetAsync(sid));
        Assert.Equal(0, server.Engine.OpenSessionCount);
    }

    [Fact]
    public async Task A_session_that_stops_answering_closes_pingTimeout_after_the_unanswered_ping()
    {
        var time = new FakeTimeProvider();
        var start = time.GetUtcNow();
        await using var server = await StartAsync(time);
        var sid = await server.HandshakeAsync();

        time.SetUtcNow(start + Interval);
        Assert.Equal((HttpStatusCode.OK, "2"), await server.GetAsync(sid));
        time.Advance(TimeSpan.FromMilliseconds(120));
        Assert.Equal((HttpStatusCode.OK, "ok"), await server.PostAsync(sid, "3"));

        // The second ping leaves at 600 ms and is never answered.
        time.SetUtcNow(start + (2 * Interval) + Timeout - OneMillisecond);
        Assert.False(server.Handler.IsClosed(sid));
        time.SetUtcNow(start + (2 * Interval) + Timeout);
        Assert.Equal("ping timeout", await server.Handler.ClosedAsync(sid));
    }

    // The session opens 1 ms after the wheel's origin, so its deadline (501 ms) falls between two ticks of the wheel
    // (500 and 504 ms): at 502 ms the deadline has passed and the wheel has not swept the session yet.
    private static readonly TimeSpan OffTick = OneMillisecond;

    /// <summary>A polling session opened <see cref="OffTick"/> after the wheel's origin; the clock stays at the open.</summary>
    private sealed class OffTickSession(EngineTestServer server, string sid, FakeTimeProvider time, DateTimeOffset start) : IAsyncDisposable
    {
        public EngineTestServer Server => server;

        public string Sid => sid;

        /// <summary>The unanswered first ping's deadline: <c>pingInterval + pingTimeout</c> after the open.</summary>
        public DateTimeOffset Deadline => start + OffTick + Interval + Timeout;

        public static async Task<OffTickSession> OpenAsync()
        {
            var time = new FakeTimeProvider();
            var start = time.GetUtcNow();
            var server = await StartAsync(time);
            time.Advance(OffTick);
            return new OffTickSession(server, await server.HandshakeAsync(), time, start);
        }

        public void SetClock(DateTimeOffset now) => time.SetUtcNow(now);

        public ValueTask DisposeAsync() => server.DisposeAsync();
    }

    [Fact]
    public async Task A_GET_just_after_the_deadline_finds_the_session_closed_before_the_wheel_sweeps_it()
    {
        await using var session = await OffTickSession.OpenAsync();
        var (server, sid) = (session.Server, session.Sid);

        session.SetClock(session.Deadline + OneMillisecond);
        Assert.False(server.Handler.IsClosed(sid));

        Assert.Equal((HttpStatusCode.BadRequest, "{\"code\":1,\"message\":\"Session ID unknown\"}"), await server.GetAsync(sid));
        Assert.Equal("ping timeout", await server.Handler.ClosedAsync(sid));
        Assert.Equal(0, server.Engine.OpenSessionCount);
    }

    [Fact]
    public async Task A_POST_just_after_the_deadline_finds_the_session_closed_even_when_it_carries_the_pong()
    {
        await using var session = await OffTickSession.OpenAsync();
        var (server, sid) = (session.Server, session.Sid);

        session.SetClock(session.Deadline + OneMillisecond);

        Assert.Equal((HttpStatusCode.BadRequest, "{\"code\":1,\"message\":\"Session ID unknown\"}"), await server.PostAsync(sid, "3"));
        Assert.Equal("ping timeout", await server.Handler.ClosedAsync(sid));
        Assert.Equal(0, server.Engine.OpenSessionCount);
    }

    [Fact]
    public async Task Requests_just_before_the_deadline_are_served_and_the_pong_keeps_the_session()
    {
        await using var session = await OffTickSession.OpenAsync();
        var (server, sid) = (session.Server, session.Sid);

        session.SetClock(session.Deadline - OneMillisecond);
        Assert.Equal((HttpStatusCode.OK, "2"), await server.GetAsync(sid));
        Assert.Equal((HttpStatusCode.OK, "ok"), await server.PostAsync(sid, "3"));

        // Answered in time: the wheel's tick after the deadline leaves the session open.
        session.SetClock(session.Deadline + (4 * OneMillisecond));
        Assert.False(server.Handler.IsClosed(sid));
        Assert.Equal(1, server.Engine.OpenSessionCount);
    }

    [Fact]
    public async Task A_session_nobody_touches_is_still_swept_by_the_wheel_at_its_next_tick()
    {
        await using var session = await OffTickSession.OpenAsync();
        var (server, sid) = (session.Server, session.Sid);

        session.SetClock(session.Deadline + OneMillisecond);
        Assert.False(server.Handler.IsClosed(sid));
        session.SetClock(session.Deadline + (3 * OneMillisecond)); // the wheel's first tick after 501 ms

        Assert.Equal("ping timeout", await server.Handler.ClosedAsync(sid));
    }

    [Fact]
    public async Task A_WebSocket_upgrade_just_after_the_deadline_is_refused_as_for_an_unknown_session()
    {
        await using var session = await OffTickSession.OpenAsync();
        var (server, sid) = (session.Server, session.Sid);

        session.SetClock(session.Deadline + OneMillisecond);
        await using var ws = await RawWebSocket.ConnectAsync(server.BaseUri, $"EIO=4&transport=websocket&sid={sid}");

        Assert.StartsWith("HTTP/1.1 400 ", ws.ResponseHead, StringComparison.Ordinal);
        Assert.Equal("ping timeout", await server.Handler.ClosedAsync(sid));
    }

    [Fact]
    public async Task A_pong_over_WebSocket_just_after_the_deadline_closes_the_session_with_ping_timeout()
    {
        var time = new FakeTimeProvider();
        var start = time.GetUtcNow();
        await using var server = await StartAsync(time);
        time.Advance(OffTick);
        await using var ws = await RawWebSocket.ConnectAsync(server.BaseUri, "EIO=4&transport=websocket");
        Assert.StartsWith("0{", await ws.ReadTextAsync(), StringComparison.Ordinal);
        var connection = await server.Handler.NextOpenedAsync();

        time.SetUtcNow(start + OffTick + Interval + Timeout + OneMillisecond);
        Assert.Equal("2", await ws.ReadTextAsync());
        Assert.False(server.Handler.IsClosed(connection.Id));
        await ws.SendTextAsync("3");

        Assert.Equal("ping timeout", await server.Handler.ClosedAsync(connection.Id));
        Assert.Equal(1000, await ws.ReadCloseStatusAsync());
    }

    [Fact]
    public async Task An_unsolicited_pong_does_not_reset_the_heartbeat()
    {
        var time = new FakeTimeProvider();
        var start = time.GetUtcNow();
        await using var server = await StartAsync(time);
        var sid = await server.HandshakeAsync();
        var session = (EngineSession)server.Handler.Connection(sid);

        // A pong before any ping answers nothing: the first ping still leaves at 300 ms.
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal((HttpStatusCode.OK, "ok"), await server.PostAsync(sid, "3"));
        var poll = server.GetAsync(sid);
        await EnginePollingTests.WaitForParkedGetAsync(session);
        time.SetUtcNow(start + Interval);
        Assert.Equal((HttpStatusCode.OK, "2"), await poll);

        // Unanswered, it closes the session at 500 ms.
        time.SetUtcNow(start + Interval + Timeout);
        Assert.Equal("ping timeout", await server.Handler.ClosedAsync(sid));
    }

    [Fact]
    public async Task A_client_ping_over_polling_closes_the_session_with_transport_error()
    {
        await using var server = await EngineTestServer.StartAsync();
        var sid = await server.HandshakeAsync();
        var poll = server.GetAsync(sid);
        await EnginePollingTests.WaitForParkedGetAsync(server.Handler.Connection(sid));

        var post = await server.PostAsync(sid, "2");

        Assert.Equal(HttpStatusCode.BadRequest, post.Status);
        Assert.Equal((HttpStatusCode.OK, "1"), await poll);
        Assert.Equal("transport error", await server.Handler.ClosedAsync(sid));
        Assert.Equal(0, server.Engine.OpenSessionCount);
    }

    [Theory]
    [InlineData("2")]
    [InlineData("2probe")]
    public async Task A_client_ping_over_WebSocket_closes_the_session_with_transport_error(string ping)
    {
        await using var server = await EngineTestServer.StartAsync();
        await using var ws = await RawWebSocket.ConnectAsync(server.BaseUri, "EIO=4&transport=websocket");
        Assert.StartsWith("0{", await ws.ReadTextAsync(), StringComparison.Ordinal);
        var connection = await server.Handler.NextOpenedAsync();

        await ws.SendTextAsync(ping);

        Assert.Equal(1000, await ws.ReadCloseStatusAsync());
        Assert.Equal("transport error", await server.Handler.ClosedAsync(connection.Id));
    }

    [Fact]
    public async Task Pings_on_a_real_clock_keep_their_spacing_without_drift()
    {
        var interval = TimeSpan.FromMilliseconds(100);
        await using var server = await EngineTestServer.StartAsync(options =>
        {
            options.PingInterval = interval;
            options.PingTimeout = TimeSpan.FromSeconds(2);
        });
        var clock = Stopwatch.StartNew();
        await using var ws = await RawWebSocket.ConnectAsync(server.BaseUri, "EIO=4&transport=websocket");
        Assert.StartsWith("0{", await ws.ReadTextAsync(), StringComparison.Ordinal);
        // Each ping is answered at once: each leaves one interval after the previous one's time, whatever the answer took.
        var arrivals = new List<TimeSpan>();
        for (var n = 1; n <= 16; n++)
        {
            Assert.Equal("2", await ws.ReadTextAsync());
            var arrival = clock.Elapsed;
            Assert.True(arrival >= (n * interval) - TimeSpan.FromMilliseconds(2), $"ping {n} left before its time ({arrival.TotalMilliseconds:F0} ms)");
            arrivals.Add(arrival);
            await ws.SendTextAsync("3");
        }

        // The median spacing: a stall of this shared machine may delay a ping or two (and a pong that comes back after
        // the next ping's time moves the schedule), but most pings keep the interval. The shared scan added its
        // lateness and the answer's to every interval (a median of 122 ms for 100 ms here).
        var spacings = arrivals.Zip(arrivals.Skip(1), (a, b) => (b - a).TotalMilliseconds).Order().ToArray();
        var median = spacings[spacings.Length / 2];
        var shown = string.Join(", ", arrivals.Select(a => a.TotalMilliseconds.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True(median > 95 && median < 108, $"median spacing {median:F1} ms for an interval of 100 ms (arrivals: {shown})");
    }

    private static Task<EngineTestServer> StartAsync(FakeTimeProvider time) =>
        EngineTestServer.StartAsync(
            options =>
            {
                options.PingInterval = Interval;
                options.PingTimeout = Timeout;
            },
            time: time);
}
