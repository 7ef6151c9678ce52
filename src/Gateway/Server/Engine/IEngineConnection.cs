namespace OrleansRooms.Engine;

/// <summary>One Engine.IO session as the Socket.IO layer sees it, whatever its transport.</summary>
internal interface IEngineConnection
{
    /// <summary>The Engine.IO session id (<c>sid</c>).</summary>
    string Id { get; }

    /// <summary>The handshake request.</summary>
    EngineRequest Request { get; }

    /// <summary>The Engine.IO revision the client speaks; v3 clients speak Socket.IO protocol v4 above it.</summary>
    EngineProtocol Protocol => EngineProtocol.V4;

    /// <summary><c>polling</c> or <c>websocket</c>; changes once, on upgrade.</summary>
    string TransportName { get; }

    /// <summary>
    /// Queues packets to be written in order, together (a text packet and its binary attachments must not be split by
    /// another writer). Writes are coalesced: packets queued while a write is under way go out in the next one.
    /// Returns false when the session is closed and nothing was queued.
    /// </summary>
    bool Send(ReadOnlySpan<EnginePacket> packets);

    /// <summary>
    /// Like <see cref="Send"/>, but drops the packets (returns false) unless the transport can take them now without
    /// buffering: a WebSocket with nothing waiting to be written, or long-polling with a GET waiting. For <c>volatile</c>.
    /// </summary>
    bool TrySendVolatile(ReadOnlySpan<EnginePacket> packets);

    /// <summary>Writes what is queued, then closes the session (server-initiated close; reason <c>forced close</c>).</summary>
    void Close();
}
