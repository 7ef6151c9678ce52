using System.Collections.Immutable;
using OrleansRooms.Grains.Gateways;
using OrleansRooms.Grains.Messages;

namespace OrleansRooms.Cluster;

/// <summary>
/// Hands each message sent to this gateway to the namespace it names. A namespace this gateway does not have (a
/// dynamic namespace with no socket here) still answers requests, with nothing, so the sender does not wait for a timeout.
/// </summary>
internal sealed class GatewayInbox(SocketIOServer server) : IGatewayInbox
{
    public ImmutableArray<string> GetHostedRooms(string ns, ImmutableArray<string> rooms)
    {
        if (server.FindNamespace(ns) is not { } nsp)
        {
            return [];
        }

        var hosted = ImmutableArray.CreateBuilder<string>();
        foreach (var room in rooms)
        {
            if (nsp.Table.HasRoom(room))
            {
                hosted.Add(room);
            }
        }

        return hosted.ToImmutable();
    }

    public void Receive(ClusterMessage message)
    {
        if (server.FindNamespace(message.Namespace) is { } nsp)
        {
            nsp.Receiver.OnClusterMessage(message);
            return;
        }

        var (type, data) = message.Type switch
        {
            ClusterMessageType.Broadcast => (ClusterMessageType.BroadcastClientCount, default(ReadOnlyMemory<byte>)),
            ClusterMessageType.FetchSockets => (ClusterMessageType.FetchSocketsResponse, "[]"u8.ToArray()),
            ClusterMessageType.SocketsJoin or ClusterMessageType.SocketsLeave or ClusterMessageType.DisconnectSockets => (ClusterMessageType.Done, default),
            _ => ((ClusterMessageType)0, default),
        };
        if (type != 0 && message.ExpectsAnswer)
        {
            _ = server.Cluster.Router.TrySendAsync(message.Source!, new ClusterMessage
            {
                Type = type,
                Namespace = message.Namespace,
                Source = server.Cluster.Self,
                RequestId = message.RequestId,
                Data = data,
            });
        }
    }
}
