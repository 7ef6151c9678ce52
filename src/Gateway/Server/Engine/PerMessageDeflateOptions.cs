using System.IO.Compression;

namespace OrleansRooms.Engine;

/// <summary>
/// WebSocket compression (RFC 7692 <c>permessage-deflate</c>; Socket.IO's <c>perMessageDeflate</c>). Set
/// <see cref="EngineIOOptions.PerMessageDeflate"/> to an instance to offer it; null (the default, as in Socket.IO 4)
/// leaves it off. The server always answers <c>server_no_context_takeover</c>: each message is compressed on its own,
/// so a broadcast is compressed once and the same bytes go to every socket that negotiated it (see docs/compression.md).
/// </summary>
public sealed class PerMessageDeflateOptions
{
    /// <summary>
    /// Messages (each Engine.IO packet or binary attachment) of fewer bytes than this are sent uncompressed: deflate
    /// costs more CPU than it saves on small messages. Default 1024, as in Socket.IO.
    /// </summary>
    public int Threshold { get; set; } = 1024;

    /// <summary>
    /// How hard the server compresses: <see cref="CompressionLevel.Optimal"/> (zlib's default level 6, the level
    /// Socket.IO uses), <see cref="CompressionLevel.Fastest"/> (level 1: less CPU, larger frames) or
    /// <see cref="CompressionLevel.SmallestSize"/> (level 9). <see cref="CompressionLevel.NoCompression"/> is not valid:
    /// leave <see cref="EngineIOOptions.PerMessageDeflate"/> null instead. Default <see cref="CompressionLevel.Optimal"/>.
    /// </summary>
    public CompressionLevel CompressionLevel { get; set; } = CompressionLevel.Optimal;

    /// <summary>
    /// Asks clients to compress each message on its own (<c>client_no_context_takeover</c>): the server then keeps no
    /// inflate state (about 40 KB) per connection between messages, at the cost of a worse ratio on what clients send.
    /// Default false, as in Socket.IO.
    /// </summary>
    public bool ClientNoContextTakeover { get; set; }

    /// <summary>What is wrong with these options, or null.</summary>
    internal string? Validate()
    {
        if (Threshold < 0)
        {
            return "Threshold must be 0 or more.";
        }

        if (CompressionLevel is not (CompressionLevel.Optimal or CompressionLevel.Fastest or CompressionLevel.SmallestSize))
        {
            return "CompressionLevel must be Optimal, Fastest or SmallestSize.";
        }

        return null;
    }
}
