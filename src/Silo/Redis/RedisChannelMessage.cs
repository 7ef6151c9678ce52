namespace OrleansRooms.Silo.Redis;

/// <summary>
/// A message received on a subscription. <see cref="Payload"/> is only valid during the handler call: copy it
/// if it must outlive the call. Handlers run on the subscription connection's read loop, in arrival order; a slow
/// handler delays every later message of that connection, so hand long work off.
/// </summary>
internal readonly struct RedisChannelMessage(RedisSubscriptionKind kind, string channel, string? pattern, ReadOnlyMemory<byte> payload)
{
    public RedisSubscriptionKind Kind { get; } = kind;

    /// <summary>The channel (or shard channel) the message was published to.</summary>
    public string Channel { get; } = channel;

    /// <summary>The pattern that matched, for a pattern subscription; otherwise null.</summary>
    public string? Pattern { get; } = pattern;

    public ReadOnlyMemory<byte> Payload { get; } = payload;
}

internal enum RedisSubscriptionKind : byte
{
    /// <summary>SUBSCRIBE: classic pub/sub, broadcast to every node of a cluster.</summary>
    Channel,

    /// <summary>PSUBSCRIBE: a glob pattern over classic channels.</summary>
    Pattern,

    /// <summary>SSUBSCRIBE: sharded pub/sub (Redis 7), served by the node owning the channel's slot.</summary>
    Shard,
}

/// <summary>Which connection went down or came back.</summary>
internal sealed class RedisConnectionEventArgs(string endpoint, bool isSubscriber, Exception? error) : EventArgs
{
    public string Endpoint { get; } = endpoint;

    /// <summary>True for a pub/sub connection, false for a command connection.</summary>
    public bool IsSubscriber { get; } = isSubscriber;

    /// <summary>Why the connection was lost (null for <c>Reconnected</c>).</summary>
    public Exception? Error { get; } = error;
}
