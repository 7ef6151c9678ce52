using System.ComponentModel.DataAnnotations;

namespace OrleansRooms.Host.Chat;

/// <summary>The chat demo's limits, bound from the <c>Chat</c> section of the configuration.</summary>
public sealed class ChatOptions
{
    /// <summary>
    /// How many rooms one client may be in at once (its own private room not counted). Default 20. A join past it is
    /// answered <c>{ ok: false, error: "at most N rooms per client" }</c>. It also bounds the room list every client
    /// receives: at most this many rooms per connected client.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxRoomsPerClient { get; set; } = 20;

    /// <summary>
    /// The shortest time between two <c>rooms:changed</c> updates: changes made meanwhile are sent together, each room
    /// once with its latest count. Default 250 ms. One client joining and leaving as fast as it can then costs every
    /// other client at most one small update per interval.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan RoomListInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The name of this gateway, which the page shows in its status line so that a user knows which gateway of a
    /// cluster holds their connection (sent to each socket as the event <c>gateway</c>, <c>{ name }</c>, so it names
    /// the gateway behind any load balancer). Default: unset; a gateway of a cluster (<c>Orleans:Clustering</c>
    /// configured) is then named like in the Admin UI, <c>machine#silo-address:port</c>, and a lone gateway sends no
    /// name (the page shows none).
    /// </summary>
    [StringLength(64, MinimumLength = 1, ErrorMessage = "Chat:GatewayName must have 1 to 64 characters.")]
    [RegularExpression(@".*\S.*", ErrorMessage = "Chat:GatewayName must not be blank (leave it unset for the default).")]
    public string? GatewayName { get; set; }
}
