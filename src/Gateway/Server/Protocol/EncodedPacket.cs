using System.Collections.Immutable;
using System.Runtime.InteropServices;
using OrleansRooms.Engine;

namespace OrleansRooms.Protocol;

/// <summary>
/// A Socket.IO packet ready to write: the text Engine.IO packet, then its binary attachments, in order. The parts
/// must be sent together (one <c>IEngineConnection.Send</c> call) so no other packet lands between them.
/// Immutable and shareable by every recipient of a broadcast.
/// </summary>
internal readonly struct EncodedPacket
{
    public EncodedPacket(EnginePacket[] parts)
    {
        Parts = parts;
    }

    /// <summary>The text packet (<c>4</c> + Socket.IO text) followed by one binary packet per attachment.</summary>
    public EnginePacket[] Parts { get; }

    /// <summary>The text packet.</summary>
    public EnginePacket Text => Parts[0];

    /// <summary>How many binary attachments follow <see cref="Text"/>.</summary>
    public int AttachmentCount => Parts.Length - 1;

    /// <summary>Marks every part as not to be compressed (<c>Compress(false)</c>); before the packet is sent.</summary>
    public void DisableCompression()
    {
        foreach (var part in Parts)
        {
            part.DisableCompression();
        }
    }

    /// <summary>The raw bytes of each attachment, in order (shared, not copied).</summary>
    public ImmutableArray<ReadOnlyMemory<byte>> AttachmentPayloads()
    {
        if (Parts.Length == 1)
        {
            return [];
        }

        var payloads = new ReadOnlyMemory<byte>[Parts.Length - 1];
        for (var i = 0; i < payloads.Length; i++)
        {
            payloads[i] = Parts[i + 1].Payload;
        }

        return ImmutableCollectionsMarshal.AsImmutableArray(payloads);
    }
}
