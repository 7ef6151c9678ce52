namespace OrleansRooms.Grains;

/// <summary>
/// The socket's half of the membership relation: the rooms one socket is in. Joining or leaving through the socket
/// grain writes both halves (the socket's rooms and each room's members); the call completes when both are written.
/// </summary>
public interface ISocketGrain
{
    /// <summary>The socket id.</summary>
    string Id { get; }

    /// <summary>Adds the socket to <paramref name="rooms"/>; rooms it is already in are left as they are.</summary>
    ValueTask JoinAsync(IReadOnlyList<string> rooms, CancellationToken cancellationToken = default);

    /// <summary>Removes the socket from <paramref name="rooms"/>; rooms it is not in are ignored.</summary>
    ValueTask LeaveAsync(IReadOnlyList<string> rooms, CancellationToken cancellationToken = default);

    /// <summary>Removes the socket from every room (disconnection).</summary>
    ValueTask LeaveAllAsync(CancellationToken cancellationToken = default);

    /// <summary>The rooms the socket is in, its own-id room included.</summary>
    ValueTask<IReadOnlyCollection<string>> GetRoomsAsync(CancellationToken cancellationToken = default);
}
