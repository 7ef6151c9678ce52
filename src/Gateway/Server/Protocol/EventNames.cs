namespace OrleansRooms.Protocol;

/// <summary>Event names reserved by Socket.IO: neither side may emit them as ordinary events.</summary>
internal static class EventNames
{
    public static bool IsReserved(string name) => name switch
    {
        "connect" or "connect_error" or "disconnect" or "disconnecting" or "newListener" or "removeListener" => true,
        _ => false,
    };

    /// <summary>Throws for an empty or reserved name: the application API refuses to emit those.</summary>
    public static void ThrowIfReserved(string eventName)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        if (IsReserved(eventName))
        {
            throw new ArgumentException($"\"{eventName}\" is a reserved event name.", nameof(eventName));
        }
    }
}
