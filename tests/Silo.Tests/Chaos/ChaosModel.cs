using System.Diagnostics;

namespace OrleansRooms.Silo.Tests.Chaos;

/// <summary>What the test knows of one socket's membership of one room, from acknowledged changes only.</summary>
internal enum Membership
{
    Out,
    In,

    /// <summary>Changes whose order the test cannot know raced (a cluster-wide request and the socket's own change, say).</summary>
    Unknown,
}

/// <summary>Timestamps of the run (<see cref="Stopwatch"/> ticks), and the time between them.</summary>
internal static class ChaosClock
{
    private static readonly long Origin = Stopwatch.GetTimestamp();

    public static long Now => Stopwatch.GetTimestamp();

    /// <summary>Seconds since the run's clock started, for messages.</summary>
    public static string At(long timestamp) =>
        timestamp == long.MaxValue ? "never" : $"{Stopwatch.GetElapsedTime(Origin, timestamp).TotalSeconds:F3}s";

    public static long After(long timestamp, TimeSpan span) => timestamp + (long)(span.TotalSeconds * Stopwatch.Frequency);
}

/// <summary>
/// One change of a socket's membership that may have taken effect anywhere in its interval: from just before the request
/// left to just after its answer came (<see cref="long.MaxValue"/> while none came). Requests are timed conservatively so
/// the interval holds the moment the gateway's table changed.
/// </summary>
internal sealed class Change(long start, string what)
{
    public long Start { get; } = start;

    public long End { get; set; } = long.MaxValue;

    public string What { get; } = what;

    public bool Overlaps(long from, long to) => Start <= to && End >= from;

    public override string ToString() => $"{What} [{ChaosClock.At(Start)}, {ChaosClock.At(End)}]";
}

/// <summary>
/// The history of one socket's membership of one room: the changes that may have touched it (intervals), and the state
/// known after each one ended. Not thread-safe: the run guards every history with one lock.
/// </summary>
internal sealed class RoomHistory
{
    private readonly List<Change> _changes = [];
    private readonly List<(long At, Membership State)> _states = [];

    public IReadOnlyList<Change> Changes => _changes;

    /// <summary>The state now, once every change so far has ended.</summary>
    public Membership Current => _states.Count == 0 ? Membership.Out : _states[^1].State;

    public void Add(Change change) => _changes.Add(change);

    /// <summary>Records the state after <paramref name="change"/> ended; unknown when another change overlapped it.</summary>
    public void Settle(Change change, Membership state)
    {
        foreach (var other in _changes)
        {
            if (!ReferenceEquals(other, change) && other.Overlaps(change.Start, change.End))
            {
                state = Membership.Unknown;
                break;
            }
        }

        _states.Add((change.End, state));
    }

    /// <summary>The state throughout [<paramref name="from"/>, <paramref name="to"/>], or unknown when a change may have happened inside.</summary>
    public Membership During(long from, long to)
    {
        foreach (var change in _changes)
        {
            if (change.Overlaps(from, to))
            {
                return Membership.Unknown;
            }
        }

        var state = Membership.Out;
        foreach (var (at, known) in _states)
        {
            if (at < from)
            {
                state = known;
            }
        }

        return state;
    }

    public override string ToString() =>
        string.Join(", ", _changes) + " → " + string.Join(", ", _states.Select(s => $"{s.State}@{ChaosClock.At(s.At)}"));
}

/// <summary>A broadcast of the run: <c>io.To(rooms).Except(except).EmitAsync("probe", seq)</c> from one gateway (no rooms: every socket).</summary>
internal sealed class Probe(int seq, string gateway, string[] rooms, string[] except, long start)
{
    public int Seq { get; } = seq;

    public string Gateway { get; } = gateway;

    public string[] Rooms { get; } = rooms;

    public string[] Except { get; } = except;

    public long Start { get; } = start;

    public long End { get; set; } = long.MaxValue;

    public bool Completed { get; set; }

    /// <summary>Whether a socket whose rooms are <paramref name="state"/> throughout the broadcast must get it, must not, or may.</summary>
    public Membership Expect(Func<string, Membership> state)
    {
        var target = Rooms.Length == 0 ? Membership.In : Union(Rooms, state);
        var excluded = Except.Length == 0 ? Membership.Out : Union(Except, state);
        return (target, excluded) switch
        {
            (Membership.Out, _) or (_, Membership.In) => Membership.Out,
            (Membership.In, Membership.Out) => Membership.In,
            _ => Membership.Unknown,
        };
    }

    public override string ToString() =>
        $"probe {Seq} from {Gateway} to [{string.Join(",", Rooms)}] except [{string.Join(",", Except)}] [{ChaosClock.At(Start)}, {ChaosClock.At(End)}]";

    // In at least one of the rooms (certainly in one), in none (certainly out of all), or not known.
    private static Membership Union(string[] rooms, Func<string, Membership> state)
    {
        var all = Membership.Out;
        foreach (var room in rooms)
        {
            switch (state(room))
            {
                case Membership.In:
                    return Membership.In;
                case Membership.Unknown:
                    all = Membership.Unknown;
                    break;
            }
        }

        return all;
    }
}

/// <summary>A fault and the time until the cluster was settled again after it (<see cref="long.MaxValue"/> until then).</summary>
internal sealed class FaultWindow(string what, long start)
{
    public string What { get; } = what;

    public long Start { get; } = start;

    public long End { get; set; } = long.MaxValue;

    public bool Overlaps(long from, long to) => Start <= to && End >= from;

    public override string ToString() => $"{What} [{ChaosClock.At(Start)}, {ChaosClock.At(End)}]";
}
