namespace OrleansRooms.Engine;

/// <summary>The revision of the Engine.IO protocol a session speaks, from the <c>EIO</c> query parameter.</summary>
internal enum EngineProtocol
{
    /// <summary>Revision 3 (<c>socket.io-client</c> 1.x and 2.x): the client pings, payloads are length-prefixed.</summary>
    V3 = 3,

    /// <summary>Revision 4 (<c>socket.io-client</c> 3.x and later): the server pings, payloads are joined by 0x1E.</summary>
    V4 = 4,
}
