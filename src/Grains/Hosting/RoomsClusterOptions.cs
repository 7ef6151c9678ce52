using OrleansRooms.Grains.Routing;

namespace OrleansRooms.Grains.Hosting;

/// <summary>How the gateways of a cluster reach each other (bound from <c>SocketIO:Cluster</c>).</summary>
public sealed class RoomsClusterOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "SocketIO:Cluster";

    /// <summary>
    /// How a broadcast reaches the other gateways hosting its sockets. Default: <see cref="GatewayDeliveryMode.DirectCall"/>,
    /// a grain call to each gateway's inbox (measured several times faster than memory streams, see docs/cluster.md).
    /// </summary>
    public GatewayDeliveryMode Delivery { get; set; } = GatewayDeliveryMode.DirectCall;

    /// <summary>
    /// The Orleans stream provider used with <see cref="GatewayDeliveryMode.Streams"/>. When no provider of this name is
    /// configured (<c>Orleans:Streaming:{name}</c>), an in-memory one is added. Default: <c>OrleansRooms</c>.
    /// </summary>
    public string StreamProvider { get; set; } = "OrleansRooms";
}
