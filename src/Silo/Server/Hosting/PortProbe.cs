using System.Net;
using System.Net.Sockets;

namespace Orleans.Hosting;

/// <summary>
/// Whether a TCP endpoint can be listened on, found by binding it alone for a moment: without SO_REUSEPORT, so a port
/// that another process listens on with SO_REUSEPORT (as Orleans' own listener does) counts as taken.
/// </summary>
internal static class PortProbe
{
    /// <summary>The error a bind of <paramref name="endpoint"/> meets, or null when it is free.</summary>
    public static SocketError? TryBind(IPEndPoint endpoint)
    {
        try
        {
            using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (endpoint.Address.Equals(IPAddress.IPv6Any))
            {
                // As Kestrel and Orleans bind "any": IPv6 and IPv4 together.
                socket.DualMode = true;
            }

            socket.Bind(endpoint);
            return null;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressFamilyNotSupported && endpoint.Address.Equals(IPAddress.IPv6Any))
        {
            return TryBind(new IPEndPoint(IPAddress.Any, endpoint.Port));
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }
    }

    /// <summary>What a bind error means to the person who chose the address.</summary>
    public static string Explain(SocketError error) => error switch
    {
        SocketError.AddressAlreadyInUse => "is in use by another process",
        SocketError.AddressNotAvailable => "is not an address of this machine",
        SocketError.AccessDenied => "needs privileges this process lacks (ports below 1024 do)",
        _ => $"cannot be listened on ({error})",
    };
}
