using System.Text.Json;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Grains.Routing;

namespace OrleansRooms.Silo.Emitter;

/// <summary>
/// Sends events to the sockets of an OrleansRooms cluster from a process that is not a gateway (a worker, a scheduled
/// job, another service), with the API of Socket.IO's emitter:
/// <code>
/// await emitter.EmitAsync("time", DateTimeOffset.UtcNow);
/// await emitter.Of("/admin").To("room1").Except("room2").EmitAsync("hello", "admins");
/// </code>
/// The process is an Orleans client of the cluster (<c>UseOrleansClient</c>), or a silo of it. Each call goes to the
/// cluster's emitter grain (<see cref="IEmitterGrain"/>), which routes it as a gateway routes its own broadcasts: once
/// to each gateway hosting a targeted socket (every live gateway for the whole namespace), in the message format the
/// gateways use between themselves. Thread-safe: one instance serves the whole process.
/// </summary>
public sealed class SocketIOEmitter
{
    private readonly IEmitterGrain _grain;
    private readonly EmitterOperator _root;

    /// <summary>An emitter sending through <paramref name="grains"/>, the cluster client's (or a silo's) grain factory.</summary>
    public SocketIOEmitter(IGrainFactory grains, SocketIOEmitterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        _grain = grains.GetGrain<IEmitterGrain>(0);
        JsonSerializerOptions = (options ?? new SocketIOEmitterOptions()).JsonSerializerOptions ?? JsonSerializerOptions.Web;
        _root = Of("/");
    }

    internal JsonSerializerOptions JsonSerializerOptions { get; }

    /// <summary>Targets the namespace <paramref name="nsp"/> (a leading <c>/</c> is added when missing).</summary>
    public EmitterOperator Of(string nsp)
    {
        ArgumentNullException.ThrowIfNull(nsp);
        return new EmitterOperator(this, nsp.StartsWith('/') ? nsp : "/" + nsp, [], [], ClusterMessageFlags.None);
    }

    /// <inheritdoc cref="EmitterOperator.To(string)"/>
    public EmitterOperator To(string room) => _root.To(room);

    /// <inheritdoc cref="EmitterOperator.To(IEnumerable{string})"/>
    public EmitterOperator To(IEnumerable<string> rooms) => _root.To(rooms);

    /// <inheritdoc cref="EmitterOperator.In(string)"/>
    public EmitterOperator In(string room) => _root.In(room);

    /// <inheritdoc cref="EmitterOperator.In(IEnumerable{string})"/>
    public EmitterOperator In(IEnumerable<string> rooms) => _root.In(rooms);

    /// <inheritdoc cref="EmitterOperator.Except(string)"/>
    public EmitterOperator Except(string room) => _root.Except(room);

    /// <inheritdoc cref="EmitterOperator.Except(IEnumerable{string})"/>
    public EmitterOperator Except(IEnumerable<string> rooms) => _root.Except(rooms);

    /// <inheritdoc cref="EmitterOperator.Volatile"/>
    public EmitterOperator Volatile => _root.Volatile;

    /// <summary>Emits an event to every socket of the main namespace (<c>/</c>).</summary>
    /// <inheritdoc cref="EmitterOperator.EmitAsync(string, object?[])"/>
    public ValueTask EmitAsync(string eventName, params object?[] args) => _root.EmitAsync(eventName, args);

    /// <inheritdoc cref="EmitterOperator.SocketsJoinAsync(string)"/>
    public ValueTask SocketsJoinAsync(string room) => _root.SocketsJoinAsync(room);

    /// <inheritdoc cref="EmitterOperator.SocketsJoinAsync(IEnumerable{string})"/>
    public ValueTask SocketsJoinAsync(IEnumerable<string> rooms) => _root.SocketsJoinAsync(rooms);

    /// <inheritdoc cref="EmitterOperator.SocketsLeaveAsync(string)"/>
    public ValueTask SocketsLeaveAsync(string room) => _root.SocketsLeaveAsync(room);

    /// <inheritdoc cref="EmitterOperator.SocketsLeaveAsync(IEnumerable{string})"/>
    public ValueTask SocketsLeaveAsync(IEnumerable<string> rooms) => _root.SocketsLeaveAsync(rooms);

    /// <inheritdoc cref="EmitterOperator.DisconnectSocketsAsync(bool)"/>
    public ValueTask DisconnectSocketsAsync(bool close = false) => _root.DisconnectSocketsAsync(close);

    /// <inheritdoc cref="EmitterOperator.ServerSideEmitAsync(string, object?[])"/>
    public ValueTask ServerSideEmitAsync(string eventName, params object?[] args) => _root.ServerSideEmitAsync(eventName, args);

    internal ValueTask SendAsync(ClusterMessage message) => new(_grain.SendAsync(message));
}
