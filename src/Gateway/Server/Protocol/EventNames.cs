namespace OrleansRooms.Protocol;

/// <summary>Event names reserved by Socket.IO: neither side may emit them as ordinary events.</summary>
internal static class EventNames
{
    public static bool IsReserved(string name) => name switch
    {
        "connect" or "connect_error" or "disconnect" or "disconnecting" or "newListener" or "removeListener" => true,
        _ => false,
    };
}
