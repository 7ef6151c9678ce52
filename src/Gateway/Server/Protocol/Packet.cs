using System.Text.Json;

namespace OrleansRooms.Protocol;

/// <summary>A packet received from a client, fully assembled (its binary attachments, if any, received).</summary>
internal sealed class Packet
{
    public PacketType Type { get; init; }

    /// <summary>The namespace, <c>/</c> when the packet names none.</summary>
    public string Namespace { get; init; } = "/";

    /// <summary>
    /// The largest ack id a client may send: JavaScript's <c>Number.MAX_SAFE_INTEGER</c> (2^53 - 1). The reference
    /// parser reads ids as JavaScript numbers, so a larger one would not come back as the same id.
    /// </summary>
    public const long MaxAckId = (1L << 53) - 1;

    /// <summary>
    /// The ack id: the id of an EVENT that wants an acknowledgement (up to <see cref="MaxAckId"/>), or the id an ACK
    /// answers (the server's own ids fit in an int).
    /// </summary>
    public long? Id { get; init; }

    /// <summary>
    /// The JSON payload, null when absent. A standalone element: it stays valid after the input buffer is reused.
    /// Binary placeholders (<c>{"_placeholder":true,"num":N}</c>) are kept as they are; <see cref="PayloadSerializer"/>
    /// resolves them against <see cref="Attachments"/>.
    /// </summary>
    public JsonElement? Data { get; init; }

    /// <summary>
    /// For EVENT and BINARY_EVENT, the event name (the first element of <see cref="Data"/>). A numeric name, which the
    /// reference parser accepts, is given in its JavaScript string form (<c>1</c>), the key a JS listener would use.
    /// </summary>
    public string? EventName { get; init; }

    /// <summary>The binary attachments of a BINARY_EVENT or BINARY_ACK, in order (placeholder <c>num</c> indexes them).</summary>
    public IReadOnlyList<byte[]> Attachments { get; init; } = [];
}
