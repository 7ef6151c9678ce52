namespace OrleansRooms;

/// <summary>Event names Socket.IO keeps for itself; an application cannot emit them.</summary>
internal static class EventNames
{
    private static readonly HashSet<string> Reserved =
        new(["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"], StringComparer.Ordinal);

    public static void ThrowIfReserved(string eventName)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        if (Reserved.Contains(eventName))
        {
            throw new ArgumentException($"\"{eventName}\" is a reserved event name.", nameof(eventName));
        }
    }
}
