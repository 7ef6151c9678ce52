namespace OrleansRooms;

/// <summary>Why a socket was disconnected, named as Socket.IO names it.</summary>
public static class DisconnectReason
{
    /// <summary>The server disconnected the socket (<c>socket.DisconnectAsync()</c>).</summary>
    public const string ServerNamespaceDisconnect = "server namespace disconnect";

    /// <summary>The client disconnected the socket (<c>socket.disconnect()</c> on the client).</summary>
    public const string ClientNamespaceDisconnect = "client namespace disconnect";

    /// <summary>The server is shutting down.</summary>
    public const string ServerShuttingDown = "server shutting down";

    /// <summary>The client did not answer a ping in time.</summary>
    public const string PingTimeout = "ping timeout";

    /// <summary>The connection was closed (the user left the page, the network dropped).</summary>
    public const string TransportClose = "transport close";

    /// <summary>The connection failed.</summary>
    public const string TransportError = "transport error";

    /// <summary>The client sent a packet the server could not read.</summary>
    public const string ParseError = "parse error";

    /// <summary>The server closed the underlying connection.</summary>
    public const string ForcedClose = "forced close";

    /// <summary>
    /// The client did not read what it was sent: more than <c>SocketIOOptions.MaxSendBufferSize</c> bytes waited for
    /// it, and the server closed the connection. OrleansRooms only: the Node.js server buffers without a limit.
    /// </summary>
    public const string SendBufferFull = "send buffer full";

    /// <summary>The server closed the connection because the client's namespaces were all disconnected.</summary>
    public const string ForcedServerClose = "forced server close";
}
