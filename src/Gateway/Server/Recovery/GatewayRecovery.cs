using Microsoft.Extensions.Options;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Grains.Recovery;

namespace OrleansRooms.Recovery;

/// <summary>The recovery settings of a gateway's silo: the gateway's own <see cref="SocketIOOptions.ConnectionStateRecovery"/>.</summary>
internal sealed class GatewayRecoverySettings(IOptions<SocketIOOptions> options) : IRecoverySettings
{
    public ConnectionStateRecoveryOptions? Options => options.Value.ConnectionStateRecovery;
}

/// <summary>Delivers the sequenced broadcasts this gateway's silo takes to the namespace they name.</summary>
internal sealed class RecoveryDelivery(SocketIOServer server) : IRecoveryDelivery
{
    public void Deliver(ClusterMessage message, RecoveryVector vector) =>
        server.FindNamespace(message.Namespace)?.Broadcaster.DeliverSequenced(message, vector);
}

/// <summary>The offset a recoverable packet carries: its vector, appended as the event's last argument, as Socket.IO appends it.</summary>
internal static class Offsets
{
    /// <summary><paramref name="data"/> (a packet's JSON array) with <paramref name="offset"/> as one more string element.</summary>
    public static byte[] Append(ReadOnlySpan<byte> data, string offset)
    {
        // The offset is base64url: no character needs escaping in JSON.
        var end = data.LastIndexOf((byte)']');
        var result = new byte[end + 3 + offset.Length + 1];
        data[..end].CopyTo(result);
        var position = end;
        if (end > 1)
        {
            result[position++] = (byte)',';
        }

        result[position++] = (byte)'"';
        System.Text.Encoding.ASCII.GetBytes(offset, result.AsSpan(position));
        position += offset.Length;
        result[position++] = (byte)'"';
        result[position++] = (byte)']';
        return result[..position];
    }
}
