using System.Text.Json;
using OrleansRooms.Silo.Redis;

namespace OrleansRooms.Emitter;

/// <summary>Where a <see cref="SocketIOEmitter"/> publishes, and how it serializes arguments.</summary>
public sealed class SocketIOEmitterOptions
{
    /// <summary>The cluster's Redis (the one its gateways use). Default: <c>localhost:6379</c>.</summary>
    public RedisOptions Redis { get; } = new();

    /// <summary>
    /// The emitter key: messages go to the channels <c>{Key}#{namespace}#…</c> and <c>{Key}-request#{namespace}#</c>,
    /// which the gateways listen to. Default: <c>socket.io</c>, the official emitter's default.
    /// </summary>
    public string Key { get; set; } = "socket.io";

    /// <summary>
    /// The cluster's key prefix (<c>RedisClusterOptions.KeyPrefix</c> of its gateways, default <c>orleansrooms</c>).
    /// When set, messages are routed like a gateway's own: a room broadcast goes once to each gateway hosting a
    /// member, a namespace-wide one once to each live gateway. When null, they are published in the official
    /// emitter's format on the <see cref="Key"/> channels instead (what gateways and Node servers with the Redis
    /// adapter both hear). Default: null.
    /// </summary>
    public string? KeyPrefix { get; set; }

    /// <summary>How event arguments are serialized. Default: <see cref="JsonSerializerDefaults.Web"/>, like the gateway's.</summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);
}
