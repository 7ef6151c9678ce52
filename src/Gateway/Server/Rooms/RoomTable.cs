using System.Collections.ObjectModel;

using OrleansRooms.Grains.Messages;

namespace OrleansRooms.Rooms;

/// <summary>
/// The membership relation of one namespace held in memory, both halves kept in step under one lock:
/// <c>sids</c> (member to rooms) and <c>rooms</c> (room to members). Every member is in the room named by its id.
/// Events are raised after the change, outside the lock, in the order the changes were made by the caller.
/// </summary>
/// <typeparam name="TMember">The member type; the table keeps references so delivery needs no look-up by id.</typeparam>
internal sealed class RoomTable<TMember> where TMember : class, IRoomMember
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<Entry>> _rooms = new(StringComparer.Ordinal);
    private long _selectionStamp;

    /// <summary>Raised when a room gets its first member.</summary>
    public event Action<string>? RoomCreated;

    /// <summary>Raised when a room loses its last member.</summary>
    public event Action<string>? RoomDeleted;

    /// <summary>Raised when a member joins a room: (room, member id).</summary>
    public event Action<string, string>? MemberJoined;

    /// <summary>Raised when a member leaves a room: (room, member id).</summary>
    public event Action<string, string>? MemberLeft;

    /// <summary>The number of members.</summary>
    public int MemberCount
    {
        get { lock (_lock) { return _members.Count; } }
    }

    /// <summary>Adds a member and puts it in the room named by its id. Returns false when the id is taken.</summary>
    public bool Add(TMember member)
    {
        ArgumentNullException.ThrowIfNull(member);
        var changes = new ChangeList();
        lock (_lock)
        {
            if (_members.ContainsKey(member.Id))
            {
                return false;
            }

            var entry = new Entry(member);
            _members.Add(member.Id, entry);
            JoinLocked(entry, member.Id, ref changes);
        }

        Raise(ref changes);
        return true;
    }

    /// <summary>Puts member <paramref name="id"/> in each of <paramref name="rooms"/>. Returns false when the member is unknown.</summary>
    public bool Join(string id, IReadOnlyList<string> rooms)
    {
        var changes = new ChangeList();
        lock (_lock)
        {
            if (!_members.TryGetValue(id, out var entry))
            {
                return false;
            }

            for (var i = 0; i < rooms.Count; i++)
            {
                JoinLocked(entry, rooms[i], ref changes);
            }
        }

        Raise(ref changes);
        return true;
    }

    /// <summary>Takes member <paramref name="id"/> out of each of <paramref name="rooms"/>. Returns false when the member is unknown.</summary>
    public bool Leave(string id, IReadOnlyList<string> rooms)
    {
        var changes = new ChangeList();
        lock (_lock)
        {
            if (!_members.TryGetValue(id, out var entry))
            {
                return false;
            }

            for (var i = 0; i < rooms.Count; i++)
            {
                LeaveLocked(entry, rooms[i], ref changes);
            }
        }

        Raise(ref changes);
        return true;
    }

    /// <summary>Takes member <paramref name="id"/> out of every room and forgets it. Returns false when the member is unknown.</summary>
    public bool Remove(string id)
    {
        var changes = new ChangeList();
        lock (_lock)
        {
            if (!_members.Remove(id, out var entry))
            {
                return false;
            }

            foreach (var room in entry.Rooms.ToArray())
            {
                LeaveLocked(entry, room, ref changes);
            }
        }

        Raise(ref changes);
        return true;
    }

    /// <summary>True when member <paramref name="id"/> is in every one of <paramref name="rooms"/>.</summary>
    public bool IsInAll(string id, IReadOnlyList<string> rooms)
    {
        lock (_lock)
        {
            if (!_members.TryGetValue(id, out var entry))
            {
                return false;
            }

            for (var i = 0; i < rooms.Count; i++)
            {
                if (!entry.Rooms.Contains(rooms[i]))
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>True when member <paramref name="id"/> is in none of <paramref name="rooms"/> (or unknown).</summary>
    public bool IsInNone(string id, IReadOnlyList<string> rooms)
    {
        lock (_lock)
        {
            if (!_members.TryGetValue(id, out var entry))
            {
                return true;
            }

            for (var i = 0; i < rooms.Count; i++)
            {
                if (entry.Rooms.Contains(rooms[i]))
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>
    /// Adds to <paramref name="targets"/> each member selected by <paramref name="selection"/>, once, however many of
    /// the rooms it is in. Members already in <paramref name="targets"/> are not deduplicated against.
    /// </summary>
    public void Select(RoomSelection selection, List<TMember> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        lock (_lock)
        {
            // A stamp per selection marks members already taken or excluded, so the union needs no set.
            var stamp = ++_selectionStamp;
            foreach (var room in selection.Except)
            {
                if (_rooms.TryGetValue(room, out var excluded))
                {
                    foreach (var entry in excluded)
                    {
                        entry.Stamp = stamp;
                    }
                }
            }

            if (selection.IsAll)
            {
                foreach (var entry in _members.Values)
                {
                    if (entry.Stamp != stamp)
                    {
                        targets.Add(entry.Member);
                    }
                }

                return;
            }

            foreach (var room in selection.Rooms)
            {
                if (!_rooms.TryGetValue(room, out var members))
                {
                    continue;
                }

                foreach (var entry in members)
                {
                    if (entry.Stamp != stamp)
                    {
                        entry.Stamp = stamp;
                        targets.Add(entry.Member);
                    }
                }
            }
        }
    }

    /// <summary>A copy of the rooms of member <paramref name="id"/>; empty when the member is unknown.</summary>
    public IReadOnlyCollection<string> GetRooms(string id)
    {
        lock (_lock)
        {
            return _members.TryGetValue(id, out var entry) ? [.. entry.Rooms] : [];
        }
    }

    /// <summary>A copy of the member ids of <paramref name="room"/>; empty when the room does not exist.</summary>
    public IReadOnlyCollection<string> GetMembers(string room)
    {
        lock (_lock)
        {
            if (!_rooms.TryGetValue(room, out var members))
            {
                return [];
            }

            var ids = new string[members.Count];
            var i = 0;
            foreach (var entry in members)
            {
                ids[i++] = entry.Member.Id;
            }

            return ids;
        }
    }

    /// <summary>A copy of the <c>rooms</c> map: room name to member ids.</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<string>> SnapshotRooms()
    {
        lock (_lock)
        {
            var copy = new Dictionary<string, IReadOnlySet<string>>(_rooms.Count, StringComparer.Ordinal);
            foreach (var (room, members) in _rooms)
            {
                var ids = new HashSet<string>(members.Count, StringComparer.Ordinal);
                foreach (var entry in members)
                {
                    ids.Add(entry.Member.Id);
                }

                copy.Add(room, new ReadOnlySet<string>(ids));
            }

            return new ReadOnlyDictionary<string, IReadOnlySet<string>>(copy);
        }
    }

    /// <summary>A copy of the <c>sids</c> map: member id to room names.</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<string>> SnapshotSids()
    {
        lock (_lock)
        {
            var copy = new Dictionary<string, IReadOnlySet<string>>(_members.Count, StringComparer.Ordinal);
            foreach (var (id, entry) in _members)
            {
                copy.Add(id, new ReadOnlySet<string>(new HashSet<string>(entry.Rooms, StringComparer.Ordinal)));
            }

            return new ReadOnlyDictionary<string, IReadOnlySet<string>>(copy);
        }
    }

    private void JoinLocked(Entry entry, string room, ref ChangeList changes)
    {
        if (!entry.Rooms.Add(room))
        {
            return;
        }

        if (!_rooms.TryGetValue(room, out var members))
        {
            members = [];
            _rooms.Add(room, members);
            changes.Add(ChangeKind.Created, room, null);
        }

        members.Add(entry);
        changes.Add(ChangeKind.Joined, room, entry.Member.Id);
    }

    private void LeaveLocked(Entry entry, string room, ref ChangeList changes)
    {
        if (!entry.Rooms.Remove(room))
        {
            return;
        }

        if (_rooms.TryGetValue(room, out var members))
        {
            members.Remove(entry);
            changes.Add(ChangeKind.Left, room, entry.Member.Id);
            if (members.Count == 0)
            {
                _rooms.Remove(room);
                changes.Add(ChangeKind.Deleted, room, null);
            }
        }
    }

    private void Raise(ref ChangeList changes)
    {
        if (changes.Items is not { } items)
        {
            return;
        }

        foreach (var (kind, room, id) in items)
        {
            switch (kind)
            {
                case ChangeKind.Created:
                    RoomCreated?.Invoke(room);
                    break;
                case ChangeKind.Deleted:
                    RoomDeleted?.Invoke(room);
                    break;
                case ChangeKind.Joined:
                    MemberJoined?.Invoke(room, id!);
                    break;
                case ChangeKind.Left:
                    MemberLeft?.Invoke(room, id!);
                    break;
            }
        }
    }

    private enum ChangeKind : byte
    {
        Created,
        Deleted,
        Joined,
        Left,
    }

    private struct ChangeList
    {
        public List<(ChangeKind Kind, string Room, string? Id)>? Items;

        public void Add(ChangeKind kind, string room, string? id) => (Items ??= []).Add((kind, room, id));
    }

    private sealed class Entry(TMember member)
    {
        public TMember Member { get; } = member;

        public HashSet<string> Rooms { get; } = new(StringComparer.Ordinal);

        public long Stamp { get; set; }
    }
}
