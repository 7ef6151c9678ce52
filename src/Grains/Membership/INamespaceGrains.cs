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
}
