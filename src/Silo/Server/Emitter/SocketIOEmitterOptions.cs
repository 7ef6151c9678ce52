using System.Text.Json;

namespace OrleansRooms.Silo.Emitter;

/// <summary>How a <see cref="SocketIOEmitter"/> serializes event arguments.</summary>
public sealed class SocketIOEmitterOptions
{
    /// <summary>
    /// How event arguments are serialized. Default: <see cref="JsonSerializerDefaults.Web"/> (camelCase), the gateways'
    /// default (<c>SocketIOOptions.JsonSerializerOptions</c>): use the same options as the gateways, so that an object
    /// reaches clients in the same shape whoever emits it.
    /// </summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);
}
