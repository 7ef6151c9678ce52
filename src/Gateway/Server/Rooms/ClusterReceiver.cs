using System.Text.Json;
using OrleansRooms.Grains;

namespace OrleansRooms.Rooms;

/// <summary>
/// Carries out, on this gateway, what other gateways and emitters ask of a namespace. Runs on the grains' receive
/// loop, so it only queues writes and starts asynchronous work; it never waits for it.
/// </summary>
internal sealed class ClusterReceiver(Namespace nsp) : IClusterMessageHandler
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
                    _ = ApplyAsync(message);
                    break;
                case ClusterMessageType.FetchSockets:
                    Answer(message, ClusterMessageType.FetchSocketsResponse, SocketDescriptor.Write(nsp.Broadcaster.SelectLocal(message.Selection), nsp.Server.JsonOptions));
                    break;
                case ClusterMessageType.ServerSideEmit:
                    nsp.RaiseServerSideEvent(message);
                    break;
                case ClusterMessageType.Reaped:
                    nsp.Adapter.RaiseReaped(System.Text.Encoding.UTF8.GetString(message.Data.Span), message.Rooms, message.TargetRooms);
                    break;
                default:
                    nsp.Requests.Dispatch(message, nsp.Server);
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

        Answer(message, ClusterMessageType.Done, default);
    }

    private void Answer(ClusterMessage request, ClusterMessageType type, ReadOnlyMemory<byte> data)
    {
        if (request.RequestId.Length == 0 || request.Source.Length == 0)
        {
            return;
        }

        nsp.AnswerGateway(request.Source, request.RequestId, type, data: data);
    }
}
