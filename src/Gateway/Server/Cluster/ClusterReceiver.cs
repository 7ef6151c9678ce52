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
                    Apply(message);
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

    // Each socket's change starts now, in the order the messages came (the local table changes at once, as a join does),
    // so a broadcast that follows this request sees it; the answer goes when the grains are written too.
    private void Apply(ClusterMessage message)
    {
        var sockets = nsp.Broadcaster.SelectLocal(message.Selection);
        var changes = new Task[sockets.Count];
        for (var i = 0; i < changes.Length; i++)
        {
            changes[i] = message.Type switch
            {
                ClusterMessageType.SocketsJoin => sockets[i].JoinAsync(message.TargetRooms).AsTask(),
                ClusterMessageType.SocketsLeave => sockets[i].LeaveAsync(message.TargetRooms).AsTask(),
                _ => sockets[i].DisconnectAsync((message.Flags & ClusterMessageFlags.Close) != 0),
            };
        }

        _ = AnswerWhenDoneAsync(message, changes);
    }

    private async Task AnswerWhenDoneAsync(ClusterMessage message, Task[] changes)
    {
        try
        {
            await Task.WhenAll(changes).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            SocketIOLog.ClusterMessageRejected(nsp.Server.Logger, message.Type.ToString(), nsp.Name, ex);
        }

        nsp.Cluster.Answer(message, ClusterMessageType.Done);
    }
}
