using System.ComponentModel.DataAnnotations;

namespace OrleansRooms.Admin;

/// <summary>
/// Options of the Socket.IO Admin UI's server side (<c>instrument(io, options)</c> of <c>@socket.io/admin-ui</c>). Bound
/// from the <c>SocketIO:AdminUI</c> configuration section by <c>AddSocketIOAdminUI</c>, validated at start-up.
/// </summary>
public sealed class AdminUIOptions
{
    /// <summary>The configuration section read by <c>AddSocketIOAdminUI</c>.</summary>
    public const string SectionName = "SocketIO:AdminUI";

    /// <summary>The namespace the UI connects to (<c>namespaceName</c>). Default <c>/admin</c>; never the main namespace.</summary>
    [Required]
    public string NamespaceName { get; set; } = "/admin";

    /// <summary>
    /// How the UI authenticates (<c>auth</c>). No default: <see cref="AdminUIAuthOptions.Type"/> must be set, to
    /// <see cref="AdminUIAuthType.Basic"/> or, explicitly, to <see cref="AdminUIAuthType.None"/>.
    /// </summary>
    [Required]
    public AdminUIAuthOptions Auth { get; set; } = new();

    /// <summary>
    /// Whether the UI may only watch (<c>readonly</c>): the operations (emit, join, leave, disconnect) are refused. Default false.
    /// </summary>
    public bool ReadOnly { get; set; }

    /// <summary>
    /// How this gateway is named in the UI's server list (<c>serverId</c>). Default: the host name and the co-hosted
    /// silo's endpoint (<c>host#10.0.0.5:11111</c>), unique in the cluster.
    /// </summary>
    public string? ServerId { get; set; }

    /// <summary>
    /// <see cref="AdminUIMode.Development"/> also sends every socket's connection, disconnection, room changes and the
    /// list of every socket of the cluster; <see cref="AdminUIMode.Production"/> only the servers' statistics. Default:
    /// development when the host environment is Development, production otherwise (the package reads
    /// <c>NODE_ENV</c> the same way).
    /// </summary>
    public AdminUIMode? Mode { get; set; }

    /// <summary>
    /// How long the session id handed to a UI that gave the right password lets it reconnect without it. Default 1 day
    /// (the package's <c>RedisStore</c> default).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan SessionDuration { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How often each gateway sends its <c>server_stats</c>. Default 2 s, as the package (the UI counts a server unhealthy after 10 s without).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:00:09")]
    public TimeSpan StatsInterval { get; set; } = TimeSpan.FromSeconds(2);
}
