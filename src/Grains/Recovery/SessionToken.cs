using System.Buffers.Text;
using System.Security.Cryptography;
using OrleansRooms.Grains.Naming;

namespace OrleansRooms.Grains.Recovery;

/// <summary>
/// The private session id (Socket.IO's <c>pid</c>) a client gets beside its socket id when recovery is on, and hands
/// back to recover: the socket id, a random secret only the session and the client know, and where the socket's
/// delivery started (the offset of a client that received nothing yet). The secret is what makes a pid unguessable; a
/// pid of another namespace names no session there.
/// </summary>
internal readonly record struct SessionToken(string SocketId, ReadOnlyMemory<byte> Secret, RecoveryVector Start)
{
    /// <summary>The length of the secret, in bytes.</summary>
    public const int SecretLength = 16;

    /// <summary>A new random secret.</summary>
    public static byte[] NewSecret() => RandomNumberGenerator.GetBytes(SecretLength);

    /// <summary>The pid: the socket id, then the secret and the start in base64url.</summary>
    public override string ToString()
    {
        var start = Start.ToBytes();
        var bytes = new byte[SecretLength + start.Length];
        Secret.Span.CopyTo(bytes);
        start.CopyTo(bytes, SecretLength);
        return SocketId + Base64Url.EncodeToString(bytes);
    }

    /// <summary>Reads a pid made by <see cref="ToString"/>; false for anything else.</summary>
    public static bool TryParse(string? pid, out SessionToken token)
    {
        token = default;
        if (pid is null || pid.Length <= SocketIds.Length || pid.Length > 4096 || !SocketIds.IsShaped(pid[..SocketIds.Length]))
        {
            return false;
        }

        var rest = pid.AsSpan(SocketIds.Length);
        if (!Base64Url.IsValid(rest))
        {
            return false;
        }

        var bytes = new byte[Base64Url.GetMaxDecodedLength(rest.Length)];
        if (!Base64Url.TryDecodeFromChars(rest, bytes, out var written) || written <= SecretLength
            || !RecoveryVector.TryRead(bytes.AsSpan(SecretLength, written - SecretLength), out var start))
        {
            return false;
        }

        token = new SessionToken(pid[..SocketIds.Length], bytes.AsMemory(0, SecretLength), start);
        return true;
    }

    /// <summary>Whether <paramref name="secret"/> is this token's, compared in constant time.</summary>
    public bool Opens(ReadOnlySpan<byte> secret) => CryptographicOperations.FixedTimeEquals(Secret.Span, secret);
}
