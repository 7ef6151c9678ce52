namespace OrleansRooms.Grains.Messages;

/// <summary>
/// Socket <see cref="SocketId"/> joined (or left) <see cref="Room"/>, as its session recorded it: what one gateway tells
/// the others when a namespace's presence is on.
/// </summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.presence-change")]
internal readonly record struct PresenceChange(
    [property: Id(0)] string Room,
    [property: Id(1)] string SocketId,
    [property: Id(2)] bool Joined);
