namespace OrleansRooms.Rooms;

/// <summary>Room names as given by the caller, checked and without duplicates.</summary>
internal static class RoomList
{
    public static string[] From(IEnumerable<string> rooms)
    {
        ArgumentNullException.ThrowIfNull(rooms);
        if (rooms is string[] { Length: 1 } single)
        {
            ArgumentNullException.ThrowIfNull(single[0], nameof(rooms));
            return single;
        }

        var result = new List<string>();
        foreach (var room in rooms)
        {
            ArgumentNullException.ThrowIfNull(room, nameof(rooms));
            if (!result.Contains(room))
            {
                result.Add(room);
            }
        }

        return [.. result];
    }

    public static string[] Add(string[] existing, IEnumerable<string> rooms)
    {
        var added = From(rooms);
        if (existing.Length == 0)
        {
            return added;
        }

        var result = new List<string>(existing);
        foreach (var room in added)
        {
            if (!result.Contains(room))
            {
                result.Add(room);
            }
        }

        return [.. result];
    }
}
