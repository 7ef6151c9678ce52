using System.Text.Json;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Hosting;

namespace OrleansRooms.Cluster;

/// <summary>
/// Carries out, on this gateway, what other gateways and emitters ask of a namespace. Called by the gateway's inbox,
/// so it only queues writes and starts asynchronous work; it never waits for it.
/// </summary>
internal sealed class ClusterReceiver(Namespace nsp)
{
    public void OnClusterMessage(ClusterMessage message)
    {
        try
        {
            switch (message.Type)
            {
                case ClusterMessageType.Broadcast:
                    nsp.Broadcaster.DeliverFromCluster(message);
                    break;
                case ClusterMessageType.SocketsJoin:
                case ClusterMessageType.SocketsLeave:
                case ClusterMessageType.DisconnectSockets:
                    // Off the caller's thread: the work awaits grain calls, and the inbox runs on the gateway grain.
                    _ = Task.Run(() => ApplyAsync(message));
                    break;
                case ClusterMessageType.FetchSockets:
                    nsp.Cluster.Answer(message, ClusterMessageType.FetchSocketsResponse, data: SocketDescriptor.Write(nsp.Broadcaster.SelectLocal(message.Selection), nsp.Server.JsonOptions));
                    break;
                case ClusterMessageType.ServerSideEmit:
                    nsp.RaiseServerSideEvent(message);
                    break;
                default:
                    nsp.Cluster.Requests.Dispatch(message, nsp.Server);
                    break;
            }
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException or KeyNotFoundException)
        {
            SocketIOLog.ClusterMessageRejected(nsp.Server.Logger, message.Type.ToString(), nsp.Name, ex);
        }
    }

    private async Task ApplyAsync(ClusterMessage message)
    {
        try
        {
            var sockets = nsp.Broadcaster.SelectLocal(message.Selection);
            foreach (var socket in sockets)
            {
                switch (message.Type)
                {
                    case ClusterMessageType.SocketsJoin:
                        await socket.JoinAsync(message.TargetRooms).ConfigureAwait(false);
                        break;
                    case ClusterMessageType.SocketsLeave:
                        await socket.LeaveAsync(message.TargetRooms).ConfigureAwait(false);
                        break;
                    default:
                        await socket.DisconnectAsync((message.Flags & ClusterMessageFlags.Close) != 0).ConfigureAwait(false);
                        break;
                }
            }
        }
        catch (Exception ex)
        {
            SocketIOLog.ClusterMessageRejected(nsp.Server.Logger, message.Type.ToString(), nsp.Name, ex);
        }

        nsp.Cluster.Answer(message, ClusterMessageType.Done);
    }
}
