namespace OrleansRooms.Protocol;

/// <summary>What a <see cref="PacketDecoder"/> made of a message.</summary>
internal enum DecodeStatus
{
    /// <summary>A whole packet was decoded.</summary>
    Complete,

    /// <summary>The packet announced binary attachments; it completes when the last one arrives.</summary>
    AwaitingAttachments,

    /// <summary>The input violates the protocol; the connection should be closed.</summary>
    Error,
}
