namespace OrleansRooms.Silo.Redis;

/// <summary>Redis answered a command with an error reply (<c>-ERR ...</c>, <c>-WRONGTYPE ...</c>).</summary>
public sealed class RedisServerException : Exception
{
    /// <summary>Creates the exception for an error reply.</summary>
    public RedisServerException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception for an error reply with its cause.</summary>
    public RedisServerException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public RedisServerException()
    {
    }
}

/// <summary>
/// The connection to Redis is down or was lost while the command was pending: the command may or may not have run.
/// The client reconnects by itself; commands issued meanwhile fail with this exception at once.
/// </summary>
public sealed class RedisConnectionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RedisConnectionException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public RedisConnectionException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public RedisConnectionException()
    {
    }
}

/// <summary>The server sent bytes that are not RESP2; the connection is dropped and reopened.</summary>
internal sealed class RedisProtocolException(string message) : Exception(message);
