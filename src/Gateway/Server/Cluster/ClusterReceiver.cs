using System.Text.Json;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Hosting;

namespace OrleansRooms.Cluster;

/// <summary>Carries out, on this gateway's sockets of one namespace, what other gateways and emitters ask.</summary>
internal sealed class ClusterReceiver(Namespace nsp)
{
    /// <summary>
    /// Takes a message that expects no answer (from a gateway's stream, or the official emitter's channels). Never
    /// blocks: it queues writes and starts work; a failure is logged.
    /// </summary>
    public void Receive(ClusterMessage message)
    {
        try
        {
            switch (message.Type)
            {
                case ClusterMessageType.Broadcast:
                    nsp.Broadcaster.DeliverFromCluster(message);
                    break;
                case ClusterMessageType.ServerSideEmit:
                    _ = nsp.RaiseServerSideEventAsync(message, ackTimeout: null);
                    break;
                default:
                    _ = ApplyAndLogAsync(message);
                    break;
            }
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException or KeyNotFoundException)
        {
            SocketIOLog.ClusterMessageRejected(nsp.Server.Logger, message.Type.ToString(), nsp.Name, ex);
        }
    }

    /// <summary>Makes the sockets <paramref name="message"/> selects here join, leave or disconnect; completes once every one has.</summary>
    public Task ApplyAsync(ClusterMessage message) => ApplyAsync(message.Type, message.Selection, [.. message.TargetRooms], message.Flags);

    /// <summary>
    /// Makes the selected sockets of this gateway join or leave <paramref name="rooms"/>, or disconnect. Each goes through
    /// its socket's own queue, in the order the requests came; completes once every one is done, or fails with the first
    /// that could not be recorded.
    /// </summary>
    public Task ApplyAsync(ClusterMessageType type, RoomSelection selection, string[] rooms, ClusterMessageFlags flags)
    {
        var sockets = nsp.Broadcaster.SelectLocal(selection);
        if (sockets.Count == 0)
        {
            return Task.CompletedTask;
        }

        var changes = new Task[sockets.Count];
        for (var i = 0; i < changes.Length; i++)
        {
            changes[i] = type switch
            {
                ClusterMessageType.SocketsJoin => JoinUnlessDeniedAsync(sockets[i], rooms),
                ClusterMessageType.SocketsLeave => sockets[i].LeaveAsync(rooms).AsTask(),
                _ => sockets[i].DisconnectAsync((flags & ClusterMessageFlags.Close) != 0).AsTask(),
            };
        }

        return Task.WhenAll(changes);
    }

    // A socket a join guard refuses stays out, logged by its namespace; the others join.
    private static async Task JoinUnlessDeniedAsync(Socket socket, string[] rooms)
    {
        try
        {
            await socket.JoinAsync(rooms).ConfigureAwait(false);
        }
        catch (RoomJoinDeniedException)
        {
        }
    }

    private async Task ApplyAndLogAsync(ClusterMessage message)
    {
        try
        {
            await ApplyAsync(message).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            SocketIOLog.ClusterMessageRejected(nsp.Server.Logger, message.Type.ToString(), nsp.Name, ex);
        }
    }
}
