using OrleansRooms.Grains.Messages;
using OrleansRooms.Rooms;

namespace OrleansRooms.Tests.Rooms;

public sealed class RoomTableTests
{
    private readonly RoomTable<Member> _table = new();

    [Fact]
    public void A_member_is_in_the_room_named_by_its_id_from_the_start()
    {
        _table.Add(new Member("a"));

        Assert.Equal(["a"], _table.GetRooms("a"));
        Assert.Equal(["a"], _table.GetMembers("a"));
    }

    [Fact]
    public void Adding_a_taken_id_is_refused()
    {
        Assert.True(_table.Add(new Member("a")));
        Assert.False(_table.Add(new Member("a")));
        Assert.Equal(1, _table.MemberCount);
    }

    [Fact]
    public void Both_halves_change_together()
    {
        _table.Add(new Member("a"));

        _table.Join("a", ["r1", "r2"]);
        _table.Leave("a", ["r1"]);

        Assert.Equal(new HashSet<string> { "a", "r2" }, _table.GetRooms("a").ToHashSet());
        Assert.Empty(_table.GetMembers("r1"));
        Assert.Equal(["a"], _table.GetMembers("r2"));
        Assert.DoesNotContain("r1", _table.SnapshotRooms().Keys);
    }

    [Fact]
    public void Select_returns_the_union_once_per_member()
    {
        var a = Add("a", "r1", "r2");
        var b = Add("b", "r2");
        Add("c");

        var targets = new List<Member>();
        _table.Select(new RoomSelection(["r1", "r2"], []), targets);

        Assert.Equal(2, targets.Count);
        Assert.Contains(a, targets);
        Assert.Contains(b, targets);
    }

    [Fact]
    public void Select_applies_except_rooms()
    {
        Add("a", "r1", "x");
        var b = Add("b", "r1");

        var targets = new List<Member>();
        _table.Select(new RoomSelection(["r1"], ["x"]), targets);

        Assert.Equal([b], targets);
    }

    [Fact]
    public void Select_with_no_room_targets_everyone_but_the_excluded()
    {
        Add("a");
        var b = Add("b");

        var targets = new List<Member>();
        _table.Select(new RoomSelection([], ["a"]), targets);

        Assert.Equal([b], targets);
    }

    [Fact]
    public void Consecutive_selections_are_independent()
    {
        Add("a", "r1");

        var first = new List<Member>();
        var second = new List<Member>();
        _table.Select(new RoomSelection(["r1"], []), first);
        _table.Select(new RoomSelection(["r1"], []), second);

        Assert.Single(first);
        Assert.Single(second);
    }

    [Fact]
    public void Remove_leaves_every_room_and_raises_the_events_in_order()
    {
        Add("a", "r1");
        var events = Record();

        _table.Remove("a");

        Assert.Equal(0, _table.MemberCount);
        Assert.Empty(_table.SnapshotRooms());
        Assert.Equal(4, events.Count);
        Assert.Contains("leave r1 a", events);
        Assert.Contains("delete r1", events);
        Assert.True(events.IndexOf("leave r1 a") < events.IndexOf("delete r1"));
    }

    [Fact]
    public void Joining_a_room_twice_changes_nothing_and_raises_nothing()
    {
        Add("a", "r1");
        var events = Record();

        _table.Join("a", ["r1"]);

        Assert.Empty(events);
        Assert.Equal(["a"], _table.GetMembers("r1"));
    }

    [Fact]
    public void Events_report_creation_join_leave_and_deletion()
    {
        _table.Add(new Member("a"));
        var events = Record();

        _table.Join("a", ["r1"]);
        _table.Leave("a", ["r1"]);

        Assert.Equal(["create r1", "join r1 a", "leave r1 a", "delete r1"], events);
    }

    [Fact]
    public void Snapshots_are_copies_that_cannot_be_modified()
    {
        Add("a", "r1");

        var rooms = _table.SnapshotRooms();
        _table.Join("a", ["r2"]);

        Assert.False(rooms.ContainsKey("r2"));
        Assert.Throws<NotSupportedException>(() => ((IDictionary<string, IReadOnlySet<string>>)rooms).Clear());
        Assert.Throws<NotSupportedException>(() => ((ICollection<string>)_table.SnapshotSids()["a"]).Clear());
    }

    [Fact]
    public void Operations_on_an_unknown_member_are_refused()
    {
        Assert.False(_table.Join("nobody", ["r1"]));
        Assert.False(_table.Leave("nobody", ["r1"]));
        Assert.False(_table.Remove("nobody"));
        Assert.Empty(_table.SnapshotRooms());
    }

    [Fact]
    public void Concurrent_joins_and_leaves_keep_both_halves_consistent()
    {
        for (var i = 0; i < 50; i++)
        {
            _table.Add(new Member("m" + i));
        }

        Parallel.For(0, 5000, n =>
        {
            var id = "m" + (n % 50);
            var room = "r" + (n % 7);
            if (n % 3 == 0)
            {
                _table.Leave(id, [room]);
            }
            else
            {
                _table.Join(id, [room]);
            }
        });

        foreach (var (room, members) in _table.SnapshotRooms())
        {
            foreach (var id in members)
            {
                Assert.Contains(room, _table.GetRooms(id));
            }
        }

        foreach (var (id, rooms) in _table.SnapshotSids())
        {
            foreach (var room in rooms)
            {
                Assert.Contains(id, _table.GetMembers(room));
            }
        }
    }

    private Member Add(string id, params string[] rooms)
    {
        var member = new Member(id);
        _table.Add(member);
        _table.Join(id, rooms);
        return member;
    }

    private List<string> Record()
    {
        var events = new List<string>();
        _table.RoomCreated += room => events.Add($"create {room}");
        _table.RoomDeleted += room => events.Add($"delete {room}");
        _table.MemberJoined += (room, id) => events.Add($"join {room} {id}");
        _table.MemberLeft += (room, id) => events.Add($"leave {room} {id}");
        return events;
    }

    private sealed record Member(string Id) : IRoomMember;
}
