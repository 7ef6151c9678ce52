using System.Buffers;

namespace OrleansRooms.Engine;

/// <summary>What sits on top of Engine.IO (the Socket.IO server). Called on the session's receive path, one call at a time per session.</summary>
internal interface IEngineHandler
{
    /// <summary>A session completed its handshake.</summary>
    void OnOpen(IEngineConnection connection);

    /// <summary>
    /// A message packet arrived. For text, <paramref name="data"/> is the message without its <c>4</c> type digit;
    /// for binary, the raw bytes. The data is only valid during the call.
    /// </summary>
    void OnMessage(IEngineConnection connection, in ReadOnlySequence<byte> data, bool isBinary);

    /// <summary>The session closed; called once. Reasons: <c>transport close</c>, <c>transport error</c>, <c>ping timeout</c>, <c>forced close</c>, <c>parse error</c>, <c>server shutting down</c>, <c>send buffer full</c>.</summary>
    void OnClose(IEngineConnection connection, string reason);
}
