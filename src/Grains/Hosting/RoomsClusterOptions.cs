using OrleansRooms.Grains.Gateways;

namespace OrleansRooms.Grains.Hosting;

/// <summary>How the gateways of a cluster reach each other and the grains (bound from <c>SocketIO:Cluster</c>).</summary>
public sealed class RoomsClusterOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "SocketIO:Cluster";

    /// <summary>
    /// How a broadcast reaches the other gateways hosting its sockets. Default: <see cref="GatewayDeliveryMode.DirectCall"/>,
    /// a call to each gateway's inbox (measured several times faster than memory streams, see docs/cluster.md).
    /// </summary>
    public GatewayDeliveryMode Delivery { get; set; } = GatewayDeliveryMode.DirectCall;

    /// <summary>
    /// The Orleans stream provider used with <see cref="GatewayDeliveryMode.Streams"/>. When no provider of this name is
    /// configured (<c>Orleans:Streaming:{name}</c>), an in-memory one is added. Default: <c>OrleansRooms</c>.
    /// </summary>
    public string StreamProvider { get; set; } = "OrleansRooms";

    /// <summary>
    /// How long a write to the grains (a join, a leave, a connection, a disconnection) is retried when it fails for a
    /// reason that passes, such as a silo that died and is not yet declared dead; after that it fails to the caller
    /// (<c>JoinAsync</c> throws). Covers the time membership takes to declare a silo dead on a busy machine. Default 10 s;
    /// not negative.
    /// </summary>
    public TimeSpan RetryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How many rooms each silo keeps the routing of (which gateways host their members), for the rooms it broadcasts
    /// to; the least recently used are forgotten past it, and cost one lookup the next time. Default 100,000.
    /// </summary>
    public int RouteCacheCapacity { get; set; } = 100_000;
}
