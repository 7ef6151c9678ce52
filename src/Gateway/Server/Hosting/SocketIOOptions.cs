using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using OrleansRooms.Engine;

namespace OrleansRooms;

/// <summary>
/// Options of the Socket.IO server and of the Engine.IO transport beneath it (inherited from
/// <see cref="EngineIOOptions"/>). Defaults are those of the official Node.js server, so clients tuned for it need no
/// change. Bound from the <c>SocketIO</c> configuration section by <c>AddSocketIO</c>, validated at start-up.
/// </summary>
public sealed class SocketIOOptions : EngineIOOptions
{
    /// <summary>The configuration section read by <c>AddSocketIO</c>.</summary>
    public const string SectionName = "SocketIO";

    /// <summary>How long a client has to connect to a namespace after the Engine.IO handshake before it is closed. Default 45 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>
    /// How long a cluster-wide request (<c>FetchSocketsAsync</c>, <c>SocketsJoinAsync</c>, <c>ServerSideEmitWithAckAsync</c>...)
    /// waits for the other gateways' answers. Default 5 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan ClusterRequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long <c>EmitWithAckAsync</c> waits for acknowledgements when no <c>Timeout(...)</c> was set on the call, on a
    /// socket and on a broadcast alike (Socket.IO's server <c>ackTimeout</c>); a per-call <c>Timeout(...)</c> overrides
    /// it. Null (the default, as in Socket.IO): no timeout, and an acknowledgement that never comes is waited for until
    /// its socket disconnects.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan? AckTimeout { get; set; }

    /// <summary>
    /// Whether a child namespace of a dynamic parent (<c>Of(Regex)</c>, <c>Of(predicate)</c>) is removed once its last
    /// socket has left (Socket.IO's <c>cleanupEmptyChildNamespaces</c>); the next client that connects to its name
    /// creates it again, through the parent's check. Default false, as in Socket.IO: a child lives as long as the server.
    /// </summary>
    public bool CleanupEmptyChildNamespaces { get; set; }

    /// <summary>The most binary attachments one packet may announce; more is a parse error. Default 10.</summary>
    [Range(0, 10_000)]
    public int MaxAttachments { get; set; } = 10;

    /// <summary>
    /// Connection state recovery (Socket.IO's <c>connectionStateRecovery</c>): a client whose connection drops gets its
    /// socket, rooms, data and missed broadcasts back when it reconnects through any gateway of the cluster. Null (the
    /// default, as in Socket.IO): off. Bound from <c>SocketIO:ConnectionStateRecovery</c>; see docs/recovery.md.
    /// </summary>
    public Grains.Recovery.ConnectionStateRecoveryOptions? ConnectionStateRecovery { get; set; }

    /// <summary>How event arguments are serialized and deserialized. Default: web defaults (camelCase).</summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);
}

/// <summary>The Engine.IO transports.</summary>
[Flags]
public enum SocketIOTransports
{
    /// <summary>None: not a valid setting.</summary>
    None = 0,

    /// <summary>HTTP long-polling (<c>polling</c>).</summary>
    Polling = 1,

    /// <summary>WebSocket (<c>websocket</c>).</summary>
    WebSocket = 2,
}
