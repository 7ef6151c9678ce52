using System.Collections.Immutable;
using OrleansRooms.Grains.Membership;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Hosting;

namespace OrleansRooms.Cluster;

/// <summary>
/// The cluster side of one namespace: its grains, the requests it waits answers for, and the messages it sends to
/// the other gateways. Kept out of <see cref="Namespace"/>, whose surface is the application's.
/// </summary>
internal sealed class NamespaceCluster(Namespace nsp, GatewayCluster cluster)
{
    /// <summary>This gateway.</summary>
    public SiloAddress Self => cluster.Self;

    /// <summary>The requests of this namespace waiting for other gateways' answers.</summary>
    public ClusterRequests Requests { get; } = new();

    public string NewSocketId() => cluster.NewSocketId();

    public ISocketGrain Socket(string id) => cluster.Socket(nsp.Name, id);

    /// <inheritdoc cref="GatewayCluster.IsDetached"/>
    public bool IsDetached => cluster.IsDetached;

    /// <summary>
    /// Sends <paramref name="message"/> once to each other gateway hosting a selected socket; returns how many took it. A
    /// failure of the cluster is logged and counted, never thrown: local delivery has happened.
    /// </summary>
    public async ValueTask<int> PublishAsync(ClusterMessage message)
    {
        if (cluster.IsDetached)
        {
            return 0;
        }

        try
        {
            return await cluster.Router.SendAsync(message, Self).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            nsp.Server.Metrics.ClusterFailure();
            SocketIOLog.ClusterPublishFailed(nsp.Server.Logger, message.Type.ToString(), nsp.Name, ex);
            return 0;
        }
    }

    /// <summary>Answers <paramref name="request"/> of another gateway, without waiting; failures are logged by the router.</summary>
    public void Answer(ClusterMessage request, ClusterMessageType type, long count = 0, ReadOnlyMemory<byte> data = default, ImmutableArray<ReadOnlyMemory<byte>> attachments = default)
    {
        if (!request.ExpectsAnswer || cluster.IsDetached)
        {
            return;
        }

        _ = cluster.Router.TrySendAsync(request.Source!, new ClusterMessage
        {
            Type = type,
            Namespace = nsp.Name,
            Source = Self,
            RequestId = request.RequestId,
            Count = count,
            Data = data,
            Attachments = attachments.IsDefault ? [] : attachments,
        });
    }

    /// <summary>The ids of the sockets in <paramref name="room"/>, on every gateway.</summary>
    public async Task<IReadOnlyCollection<string>> GetRoomMembersAsync(string room)
    {
        var members = await cluster.Room(nsp.Name, room).GetMembersAsync().ConfigureAwait(false);
        // A socket's own-id room is the socket grain, not a room member.
        if (cluster.Router.Directory.FindHost(room) is not null && (await Socket(room).GetRoomsAsync().ConfigureAwait(false)).Length > 0)
        {
            return [room, .. members];
        }

        return members;
    }

    /// <summary>The rooms of socket <paramref name="socketId"/>, wherever it is connected.</summary>
    public async Task<IReadOnlyCollection<string>> GetSocketRoomsAsync(string socketId) =>
        await Socket(socketId).GetRoomsAsync().ConfigureAwait(false);

    /// <summary>Every room with at least one socket, on every gateway, every socket's own room included.</summary>
    public async Task<IReadOnlyCollection<string>> GetRoomNamesAsync() => await cluster.GetRoomNamesAsync(nsp.Name).ConfigureAwait(false);

    /// <summary>The ids of every socket of the namespace, on every gateway.</summary>
    public async Task<IReadOnlyCollection<string>> GetSocketIdsAsync() => await cluster.GetSocketIdsAsync(nsp.Name).ConfigureAwait(false);
}
