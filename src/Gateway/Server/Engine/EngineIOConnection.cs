using System.Text;

namespace OrleansRooms.Engine;

/// <summary>
/// One Engine.IO client connection (a session: its id survives the upgrade from long-polling to WebSocket).
/// Messages arrive one at a time, in order, on <see cref="OnMessage"/>; <see cref="OnClose"/> runs once at the end.
/// </summary>
public sealed class EngineIOConnection
{
    private readonly IEngineConnection _session;
    private Action<EngineIOMessage>? _onMessage;
    private Action<string>? _onClose;

    internal EngineIOConnection(IEngineConnection session) => _session = session;

    /// <summary>The session id (<c>sid</c>).</summary>
    public string Id => _session.Id;

    /// <summary>The transport in use: <c>polling</c> or <c>websocket</c> (changes once, on upgrade).</summary>
    public string Transport => _session.TransportName;

    /// <summary>Sets what runs for each message from the client.</summary>
    public void OnMessage(Action<EngineIOMessage> handler) => _onMessage = handler ?? throw new ArgumentNullException(nameof(handler));

    /// <summary>
    /// Sets what runs when the connection closes, with the reason: <c>transport close</c>, <c>transport error</c>,
    /// <c>ping timeout</c>, <c>parse error</c>, <c>forced close</c>, <c>server shutting down</c> or
    /// <c>send buffer full</c>. Runs once, after the last message.
    /// </summary>
    public void OnClose(Action<string> handler) => _onClose = handler ?? throw new ArgumentNullException(nameof(handler));

    /// <summary>Sends a text message. Returns false when the connection is closed (or just closed because the client does not read).</summary>
    public bool Send(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var utf8 = new byte[1 + Encoding.UTF8.GetByteCount(text)];
        utf8[0] = (byte)'4';
        Encoding.UTF8.GetBytes(text, utf8.AsSpan(1));
        return _session.Send([EnginePacket.FromText(utf8)]);
    }

    /// <summary>Sends a binary message (copied). Returns false when the connection is closed.</summary>
    public bool Send(ReadOnlySpan<byte> data) => _session.Send([EnginePacket.FromBinary(data)]);

    /// <summary>Writes what is queued, then closes the connection (reason <c>forced close</c>).</summary>
    public void Close() => _session.Close();

    internal void Receive(EngineIOMessage message) => _onMessage?.Invoke(message);

    internal void Closed(string reason) => _onClose?.Invoke(reason);
}

/// <summary>A message from an Engine.IO client: text, or binary (<see cref="Data"/>).</summary>
/// <param name="Text">The text of a text message; null for binary.</param>
/// <param name="Data">The bytes of a binary message; null for text.</param>
public readonly record struct EngineIOMessage(string? Text, byte[]? Data)
{
    /// <summary>Whether the message is binary.</summary>
    public bool IsBinary => Data is not null;
}
