using OrleansRooms.Grains.Naming;
using OrleansRooms.Grains.Sessions;

namespace OrleansRooms.Grains.Rooms;

/// <summary>Which grain serves a room of a namespace.</summary>
internal static class RoomGrains
{
    /// <summary>
    /// The grain holding the members of <paramref name="room"/>: the socket grain of that id when the name has the shape
    /// of a socket id (every socket is in the room named by its id, and the socket's grain is that room, so a message to
    /// a socket activates no second grain), else the room grain.
    /// </summary>
    public static IRoomMembers Of(IGrainFactory grains, string ns, string room) =>
        SocketIds.IsShaped(room)
            ? grains.GetGrain<ISocketGrain>(GrainKeys.Of(ns, room))
            : grains.GetGrain<IRoomGrain>(GrainKeys.Of(ns, room));
}

/// <summary>How a room's members are read: in parts of at most <see cref="PageSize"/> members expected each.</summary>
internal static class RoomPages
{
    /// <summary>Members per part, on average: small enough for one message, large enough to need few.</summary>
    public const int PageSize = 8_192;

    /// <summary>How many parts a room of <paramref name="count"/> members is read in.</summary>
    public static int PartsFor(int count) => Math.Max(1, (count + PageSize - 1) / PageSize);

    /// <summary>The part a member belongs to.</summary>
    public static int PartOf(SocketKey member, int parts) => (int)((member.Low ^ (member.Low >> 32)) % (ulong)parts);
}
