using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http;

namespace OrleansRooms.Engine;

/// <summary>
/// Options of the Engine.IO transport: heartbeat, upgrade, sizes, transports. <c>AddEngineIO</c> binds them from the
/// <c>EngineIO</c> configuration section for an Engine.IO server of its own (<c>MapEngineIO</c>);
/// <see cref="SocketIOOptions"/> derives from them for the Engine.IO layer under Socket.IO. Defaults are those of the
/// official Node.js server. Validated at start-up.
/// </summary>
public class EngineIOOptions
{
    /// <summary>How often the server pings each client. Default 25 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>How long the server waits for the pong before closing with <c>ping timeout</c>. Default 20 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan PingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long an upgrade from long-polling to WebSocket may take before it is cancelled. Default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan UpgradeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The largest Engine.IO packet (WebSocket) or payload (long-polling) a client may send, in bytes; also sent to
    /// the client as <c>maxPayload</c>. Larger input closes the session (WebSocket 1009) or is refused (HTTP 413). Default 1 MB.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int MaxHttpBufferSize { get; set; } = 1_000_000;

    /// <summary>
    /// The most bytes that may wait to be sent to one connection (both transports): packets queued and packets taken by
    /// a write that has not completed, counted at their WebSocket frame size (a broadcast's packet is shared by its
    /// recipients, not copied, but each one that holds it keeps it alive), and a WebSocket's pending control replies
    /// (pong, <c>3probe</c>). A healthy client takes what it is sent within a round trip; one that does not read (a
    /// stalled network, a frozen tab, a hostile client) would otherwise hold memory without limit. <c>Volatile</c>
    /// packets are dropped first: they are sent only when the transport can take them at once and less than half of
    /// this waits. A send that would pass the limit closes the connection with reason <c>send buffer full</c> (one
    /// warning, and the <c>orleansrooms.engine.send_buffer.overflows</c> counter; a WebSocket is dropped without a
    /// close frame, which would wait behind what the client does not read); a single send larger than the limit still
    /// goes through when nothing waits. Default 1 MiB: about two seconds of a busy room (1,000 messages of 500 bytes
    /// per second) and room for the largest message a client may send (<see cref="MaxHttpBufferSize"/>) to be relayed,
    /// while 10,000 stalled connections stay within 10 GiB.
    /// </summary>
    [Range(1024, int.MaxValue)]
    public int MaxSendBufferSize { get; set; } = 1 << 20;

    /// <summary>
    /// Transports clients may use. Default both. In configuration: <c>"Polling, WebSocket"</c>, or one of them.
    /// </summary>
    public SocketIOTransports Transports { get; set; } = SocketIOTransports.Polling | SocketIOTransports.WebSocket;

    /// <summary>Whether a long-polling session may upgrade to WebSocket. Default true.</summary>
    public bool AllowUpgrades { get; set; } = true;

    /// <summary>
    /// Decides whether a handshake or upgrade request may proceed; false answers 403 <c>{"code":4,"message":"Forbidden"}</c>.
    /// Default: every request is allowed.
    /// </summary>
    public Func<HttpContext, ValueTask<bool>>? AllowRequest { get; set; }

    /// <summary>
    /// Text put in front of every Engine.IO session id this gateway issues, such as <c>g1.</c>. Behind a load balancer
    /// it names the gateway that holds the session, so a proxy can route every later request of a long-polling session
    /// (they carry <c>?sid=</c>) to that gateway without cookies or client-IP affinity (see deploy/nginx). At most 32
    /// characters among <c>A-Z a-z 0-9 . _ -</c>. Default: none.
    /// </summary>
    [RegularExpression("^[A-Za-z0-9._-]{0,32}$", ErrorMessage = "SessionIdPrefix must be at most 32 characters among A-Z a-z 0-9 . _ -.")]
    public string? SessionIdPrefix { get; set; }

    /// <summary>
    /// WebSocket compression (<c>permessage-deflate</c>, RFC 7692) offered to clients that ask for it: messages at or
    /// above <see cref="PerMessageDeflateOptions.Threshold"/> are compressed unless emitted with <c>Compress(false)</c>,
    /// and compressed client messages are accepted. Null (the default, as in Socket.IO 4): off, compression costs CPU on
    /// every message. Bound from <c>PerMessageDeflate</c> under the options' section; see docs/compression.md.
    /// </summary>
    public PerMessageDeflateOptions? PerMessageDeflate { get; set; }

    /// <summary>
    /// Whether clients of Engine.IO protocol v3 (<c>EIO=3</c>: <c>socket.io-client</c> 2.x, still shipped in many mobile
    /// apps) may connect, as Socket.IO's <c>allowEIO3</c>. Their sessions ping the server instead of being pinged, and
    /// their Socket.IO layer speaks protocol v4 (see docs/older-clients.md). Off, a v3 client is refused with 400
    /// <c>{"code":5,"message":"Unsupported protocol version"}</c>. Default false.
    /// </summary>
    public bool AllowEIO3 { get; set; }
}
