namespace OrleansRooms.Grains.Sessions;

/// <summary>
/// The rooms of one session: a plain array searched in order while small (a socket is in a few rooms; an array of
/// four costs 48 bytes where a hash set costs about 190), a hash set past <see cref="ArrayLimit"/>. Not thread-safe.
/// </summary>
internal struct RoomSet
{
    private const int ArrayLimit = 16;

    private string[]? _array;
    private HashSet<string>? _set;

    /// <summary>The number of rooms.</summary>
    public int Count { get; private set; }

    public readonly bool Contains(string room)
    {
        if (_set is not null)
        {
            return _set.Contains(room);
        }

        for (var i = 0; i < Count; i++)
        {
            if (string.Equals(_array![i], room, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    public bool Add(string room)
    {
        if (_set is not null)
        {
            if (_set.Add(room))
            {
                Count++;
                return true;
            }

            return false;
        }

        if (Contains(room))
        {
            return false;
        }

        if (Count == ArrayLimit)
        {
            _set = new HashSet<string>(_array!, StringComparer.Ordinal) { room };
            _array = null;
            Count++;
            return true;
        }

        if (_array is null || Count == _array.Length)
        {
            Array.Resize(ref _array, Math.Min(ArrayLimit, Math.Max(2, Count * 2)));
        }

        _array[Count++] = room;
        return true;
    }

    public bool Remove(string room)
    {
        if (_set is not null)
        {
            if (_set.Remove(room))
            {
                Count--;
                return true;
            }

            return false;
        }

        for (var i = 0; i < Count; i++)
        {
            if (string.Equals(_array![i], room, StringComparison.Ordinal))
            {
                _array[i] = _array[--Count];
                _array[Count] = null!;
                return true;
            }
        }

        return false;
    }

    public void Clear()
    {
        _array = null;
        _set = null;
        Count = 0;
    }

    /// <summary>A copy of the rooms.</summary>
    public readonly string[] ToArray()
    {
        if (_set is not null)
        {
            return [.. _set];
        }

        return _array is null ? [] : _array.AsSpan(0, Count).ToArray();
    }
}
