using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;

namespace OrleansRooms.Grains.Naming;

/// <summary>
/// Socket ids: 20 base64url characters, as Socket.IO's, from 15 random bytes (120 bits: unguessable). An id says nothing
/// about where its socket is connected: a socket's session (its grain) knows, so a socket can move between gateways.
/// </summary>
internal static class SocketIds
{
    /// <summary>The length of an id.</summary>
    public const int Length = 20;

    private const int IdBytes = 15;

    /// <summary>A new random id.</summary>
    public static string New()
    {
        Span<byte> bytes = stackalloc byte[IdBytes];
        RandomNumberGenerator.Fill(bytes);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>Whether <paramref name="name"/> has the shape of a socket id (a room of that name is a socket's own room).</summary>
    public static bool IsShaped(string name)
    {
        if (name.Length != Length)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>
/// A socket id in 16 bytes instead of a 20-character string (64 bytes on the heap and a reference): how a room grain
/// keeps its members, so a room of a million members costs tens of megabytes, not a hundred.
/// </summary>
internal readonly record struct SocketKey(ulong High, ulong Low) : IComparable<SocketKey>
{
    /// <summary>Reads <paramref name="id"/>, which must be a socket id (<see cref="SocketIds.IsShaped"/>).</summary>
    public static bool TryParse(string id, out SocketKey key)
    {
        Span<byte> bytes = stackalloc byte[16];
        bytes.Clear();
        if (!SocketIds.IsShaped(id) || !Base64Url.TryDecodeFromChars(id, bytes[1..], out var written) || written != 15)
        {
            key = default;
            return false;
        }

        key = new SocketKey(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));
        return true;
    }

    /// <summary>Reads <paramref name="id"/>; throws <see cref="ArgumentException"/> when it is no socket id.</summary>
    public static SocketKey Parse(string id) =>
        TryParse(id, out var key) ? key : throw new ArgumentException($"Not a socket id: '{id}'.", nameof(id));

    /// <summary>Orders keys as unsigned 128-bit numbers (not as their ids' text): the order room member pages follow.</summary>
    public int CompareTo(SocketKey other) => High != other.High ? High.CompareTo(other.High) : Low.CompareTo(other.Low);

    /// <summary>The socket id.</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, High);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], Low);
        return Base64Url.EncodeToString(bytes[1..]);
    }
}
