namespace OrleansRooms.Grains.Recovery;

/// <summary>
/// Connection state recovery (Socket.IO's <c>connectionStateRecovery</c>): a client whose connection drops gets back,
/// when it reconnects through any gateway of the cluster within <see cref="MaxDisconnectionDuration"/>, its socket id,
/// rooms, data and every packet broadcast to it meanwhile. Off unless set (<c>SocketIOOptions.ConnectionStateRecovery</c>,
/// or the <c>SocketIO:ConnectionStateRecovery</c> section); every silo of a cluster must use the same settings.
/// </summary>
public sealed class ConnectionStateRecoveryOptions
{
    /// <summary>The configuration section the options are read from.</summary>
    public const string SectionName = "SocketIO:ConnectionStateRecovery";

    /// <summary>
    /// How long a disconnected socket's session waits for its client; then the socket is gone for good. Default 2 minutes,
    /// as in Socket.IO; between 1 second and 1 day.
    /// </summary>
    public TimeSpan MaxDisconnectionDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Whether a recovered socket skips the namespace's middleware. Default true, as in Socket.IO.</summary>
    public bool SkipMiddlewares { get; set; } = true;

    /// <summary>
    /// The most packets kept for one disconnected socket; one more and the socket can no longer be recovered (its client
    /// gets a new session). Default 10,000; at least 1.
    /// </summary>
    public int MaxMissedPackets { get; set; } = 10_000;

    /// <summary>
    /// The most bytes of packets kept for one disconnected socket (a packet shared by many sockets is stored once, but
    /// counts for each); past it the socket can no longer be recovered. Default 4 MiB; at least 1 KiB.
    /// </summary>
    public long MaxMissedBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// How many of the latest broadcasts each silo keeps per namespace, for the sockets whose disconnection it does not know
    /// of yet (a client may notice a dead connection before the server does). A client whose last packet is older than
    /// what is kept cannot be recovered. Default 10,000; at least 100.
    /// </summary>
    public int HistoryPackets { get; set; } = 10_000;

    /// <summary>The most bytes of those broadcasts kept per namespace and silo. Default 16 MiB; at least 64 KiB.</summary>
    public long HistoryBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>The first invalid setting, or null.</summary>
    public string? Validate() =>
        MaxDisconnectionDuration < TimeSpan.FromSeconds(1) || MaxDisconnectionDuration > TimeSpan.FromDays(1) ? "MaxDisconnectionDuration must lie between 1 second and 1 day."
        : MaxMissedPackets < 1 ? "MaxMissedPackets must be at least 1."
        : MaxMissedBytes < 1024 ? "MaxMissedBytes must be at least 1024."
        : HistoryPackets < 100 ? "HistoryPackets must be at least 100."
        : HistoryBytes < 64 * 1024 ? "HistoryBytes must be at least 65536."
        : null;
}

/// <summary>
/// Where the recovery settings of this silo come from: the <c>SocketIO:ConnectionStateRecovery</c> section on a
/// grain-only silo, the gateway's <c>SocketIOOptions</c> on a gateway (which replaces this registration).
/// </summary>
internal interface IRecoverySettings
{
    /// <summary>The settings; null when recovery is off.</summary>
    ConnectionStateRecoveryOptions? Options { get; }
}
