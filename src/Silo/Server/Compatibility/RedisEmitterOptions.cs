using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace OrleansRooms.Silo.Compatibility;

/// <summary>
/// Where a gateway listens for the official <c>@socket.io/redis-emitter</c> (bound from <c>SocketIO:Emitter</c>). Every
/// gateway subscribes to the emitter's channels and carries out each message on its own sockets, as every Socket.IO
/// server with the Redis adapter does. Off when <see cref="Redis"/> or <see cref="Key"/> is empty; grain-only silos
/// never listen.
/// </summary>
public sealed class RedisEmitterOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "SocketIO:Emitter";

    /// <summary>The key the official emitter uses unless told otherwise.</summary>
    public const string DefaultKey = "socket.io";

    /// <summary>
    /// The Redis the emitters publish to: a StackExchange.Redis configuration string (<c>host:6379,password=...</c>).
    /// Default: the cluster's membership store when <c>Orleans:Clustering:ProviderType</c> is <c>Redis</c> (its
    /// <c>Orleans:Clustering:ConnectionString</c>, or the connection string its <c>ConnectionName</c> names), otherwise
    /// none, and then the gateway does not listen. An empty string turns the listener off.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>
    /// The emitter key, the <c>key</c> option of the official emitter: the gateway hears <c>{Key}#...</c> (broadcasts)
    /// and <c>{Key}-request#...</c> (socketsJoin, socketsLeave, disconnectSockets, serverSideEmit), through one pattern
    /// subscription <c>{Key}*</c> that keeps them in publish order. Default: <c>socket.io</c>. Empty turns the listener off.
    /// </summary>
    public string Key { get; set; } = DefaultKey;

    /// <summary>
    /// The most messages that may wait between the Redis connection and the decoder. Messages are
    /// decoded and handed to the gateway as they are read, so a backlog only builds up when emitters publish faster
    /// than the gateway decodes; past this many, messages are dropped unread (logged and counted) until the backlog
    /// shrinks, so a flood cannot grow the gateway's memory without bound. Counted in messages, not bytes: lower it
    /// when emitters send large payloads. Default: 10,000.
    /// </summary>
    public int MaxBacklog { get; set; } = 10_000;

    /// <summary>Whether the options ask for a listener.</summary>
    internal bool IsEnabled => !string.IsNullOrEmpty(Redis) && Key.Length > 0;
}

/// <summary>Refuses, at start-up, options the listener could not work with.</summary>
internal sealed class RedisEmitterOptionsValidator : IValidateOptions<RedisEmitterOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisEmitterOptions options)
    {
        if (options.Key is null)
        {
            return ValidateOptionsResult.Fail($"{RedisEmitterOptions.SectionName}:Key must not be null (empty turns the listener off).");
        }

        if (options.MaxBacklog < 1)
        {
            return ValidateOptionsResult.Fail($"{RedisEmitterOptions.SectionName}:MaxBacklog must be at least 1 (it is {options.MaxBacklog}).");
        }

        if (!string.IsNullOrEmpty(options.Redis))
        {
            try
            {
                ConfigurationOptions.Parse(options.Redis);
            }
            catch (ArgumentException ex)
            {
                return ValidateOptionsResult.Fail($"{RedisEmitterOptions.SectionName}:Redis is not a StackExchange.Redis configuration string: {ex.Message}");
            }
        }

        return ValidateOptionsResult.Success;
    }
}
