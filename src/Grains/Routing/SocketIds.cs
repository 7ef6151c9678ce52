using System.Buffers.Text;
using System.Security.Cryptography;

namespace OrleansRooms.Grains.Routing;

/// <summary>
/// Socket ids: 20 base64url characters, as Socket.IO's, from 15 bytes. The first 3 bytes name the gateway that hosts
/// the socket (a tag derived from its silo address) and the other 12 are random (96 bits: unguessable). The tag is what
/// lets a broadcast to a socket's own-id room find its gateway without a grain per socket for that room.
/// </summary>
public static class SocketIds
{
    private const int TagBytes = 3;
    private const int IdBytes = 15;

    /// <summary>A new id for a socket hosted by <paramref name="gateway"/>.</summary>
    public static string New(SiloAddress gateway)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        Span<byte> bytes = stackalloc byte[IdBytes];
        var tag = TagOf(gateway);
        bytes[0] = (byte)(tag >> 16);
        bytes[1] = (byte)(tag >> 8);
        bytes[2] = (byte)tag;
        RandomNumberGenerator.Fill(bytes[TagBytes..]);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>The gateway tag of <paramref name="id"/>, when it has the shape of a socket id.</summary>
    public static bool TryGetTag(string id, out int tag)
    {
        tag = 0;
        Span<byte> bytes = stackalloc byte[TagBytes];
        // Four base64url characters carry the three tag bytes.
        if (id is not { Length: 20 } || !Base64Url.IsValid(id) || !Base64Url.TryDecodeFromChars(id.AsSpan(0, 4), bytes, out var written) || written != TagBytes)
        {
            return false;
        }

        tag = (bytes[0] << 16) | (bytes[1] << 8) | bytes[2];
        return true;
    }

    /// <summary>The tag of <paramref name="gateway"/>'s socket ids.</summary>
    public static int TagOf(SiloAddress gateway) => gateway.GetConsistentHashCode() & 0xFFFFFF;
}
