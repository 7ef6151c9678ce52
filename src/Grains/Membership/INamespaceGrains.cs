namespace OrleansRooms.Grains;

/// <summary>The room and socket grains of one namespace, as one gateway sees them.</summary>
public interface INamespaceGrains : IAsyncDisposable
{
    /// <summary>The namespace name, such as <c>/</c> or <c>/chat</c>.</summary>
    string Namespace { get; }

    /// <summary>The grain holding the rooms of socket <paramref name="socketId"/>.</summary>
    ISocketGrain GetSocket(string socketId);

    /// <summary>The grain holding the members of <paramref name="room"/>.</summary>
    IRoomGrain GetRoom(string room);

    /// <summary>Every room of the namespace that has at least one member.</summary>
    ValueTask<IReadOnlyCollection<string>> GetRoomNamesAsync(CancellationToken cancellationToken = default);

    /// <summary>This gateway's id in the cluster.</summary>
    string GatewayId { get; }

    /// <summary>
    /// Sends <paramref name="message"/> once to each other gateway hosting at least one socket in
    /// <see cref="ClusterMessage.Rooms"/> (to every other gateway when no room is named). Returns how many gateways
    /// it was sent to, so a caller waiting for answers knows how many to expect.
    /// </summary>
    ValueTask<int> PublishAsync(ClusterMessage message, CancellationToken cancellationToken = default);

    /// <summary>Sends <paramref name="message"/> to gateway <paramref name="gatewayId"/> (an answer to a request).</summary>
    ValueTask SendAsync(string gatewayId, ClusterMessage message, CancellationToken cancellationToken = default);

    /// <summary>Sets who receives the messages other gateways and emitters send to this gateway for this namespace.</summary>
    void SetMessageHandler(IClusterMessageHandler handler);
}
