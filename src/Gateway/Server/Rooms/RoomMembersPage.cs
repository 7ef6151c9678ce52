namespace OrleansRooms;

/// <summary>
/// One page of a room's members, cluster-wide (<see cref="Adapter.GetRoomMembersAsync(string, int, string?)"/>): socket
/// ids, and the token that reads the next page (null on the last one).
/// </summary>
public sealed class RoomMembersPage
{
    /// <summary>The largest page size a read may ask for.</summary>
    public const int MaxPageSize = 8_192;

    internal RoomMembersPage(IReadOnlyList<string> socketIds, string? continuationToken)
    {
        SocketIds = socketIds;
        ContinuationToken = continuationToken;
    }

    /// <summary>The ids of the sockets on this page, at most the page size asked for.</summary>
    public IReadOnlyList<string> SocketIds { get; }

    /// <summary>Pass it to the next read for the page after this one; null when this is the last page.</summary>
    public string? ContinuationToken { get; }
}
