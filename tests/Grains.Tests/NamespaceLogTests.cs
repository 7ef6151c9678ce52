using System.Net;
using Microsoft.Extensions.Time.Testing;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Grains.Recovery;

namespace OrleansRooms.Grains.Tests;

/// <summary>A silo's log of sequenced broadcasts: each sender's order, what disconnected sessions keep, and what is replayed.</summary>
public sealed class NamespaceLogTests
{
    private static readonly SiloAddress A = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 1);
    private static readonly SiloAddress B = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11112), 1);
    private static readonly uint SenderA = RecoveryVector.SenderOf(A);
    private static readonly uint SenderB = RecoveryVector.SenderOf(B);

    private readonly FakeTimeProvider _time = new();
    private readonly Delivered _delivered = new();

    [Fact]
    public void A_broadcast_that_arrives_early_waits_for_the_ones_before_it()
    {
        var log = NewLog();

        log.Accept(Message(A, 1, start: true), _delivered);
        log.Accept(Message(A, 3), _delivered);
        Assert.Equal([1L], _delivered.Sequences);

        log.Accept(Message(A, 2), _delivered);
        log.Accept(Message(A, 2), _delivered);

        Assert.Equal([1L, 2L, 3L], _delivered.Sequences);
        Assert.Equal(3, log.Vector[SenderA]);
        Assert.Equal(3, _delivered.Vectors[^1][SenderA]);
    }

    [Fact]
    public void A_senders_first_broadcast_to_a_silo_starts_its_sequence_there()
    {
        var log = NewLog();

        log.Accept(Message(A, 41, start: true), _delivered);
        log.Accept(Message(A, 42), _delivered);

        Assert.Equal([41L, 42L], _delivered.Sequences);
    }

    [Fact]
    public void A_gap_left_by_a_sender_that_died_is_skipped_and_no_session_that_may_need_it_is_recovered()
    {
        var log = NewLog();
        log.Accept(Message(A, 1, start: true), _delivered);
        var missed = log.Suspend("s", ["r"]);
        log.Accept(Message(A, 3), _delivered);

        log.OnSiloLeft(A, _delivered);

        Assert.Equal([1L, 3L], _delivered.Sequences);
        Assert.Null(log.Replay(missed, RecoveryVector.Empty.With(SenderA, 1), log.Vector));
    }

    [Fact]
    public void A_gap_that_never_fills_is_skipped_after_the_limit()
    {
        var log = NewLog();
        log.Accept(Message(A, 1, start: true), _delivered);
        log.Accept(Message(A, 3), _delivered);

        log.Tick(TimeSpan.FromSeconds(10), _delivered);
        Assert.Equal([1L], _delivered.Sequences);
        _time.Advance(TimeSpan.FromSeconds(11));
        log.Tick(TimeSpan.FromSeconds(10), _delivered);

        Assert.Equal([1L, 3L], _delivered.Sequences);
    }

    [Fact]
    public void A_suspended_session_keeps_what_reaches_its_rooms_and_gets_it_after_its_offset_up_to_the_gateways()
    {
        var log = NewLog();
        log.Accept(Message(A, 1, start: true, rooms: ["r"]), _delivered);
        log.Accept(Message(B, 1, start: true, rooms: ["other"]), _delivered);
        var missed = log.Suspend("s", ["r", "s"]);
        log.Accept(Message(A, 2, rooms: ["r"], except: ["s"]), _delivered);
        log.Accept(Message(B, 2), _delivered);
        log.Accept(Message(A, 3, rooms: ["s"]), _delivered);
        log.Accept(Message(B, 3, rooms: ["r"]), _delivered);

        var until = RecoveryVector.Empty.With(SenderA, 3).With(SenderB, 2);
        var replay = log.Replay(missed, RecoveryVector.Empty, until)!;

        Assert.Equal([(SenderA, 1L), (SenderB, 2L), (SenderA, 3L)], replay.Select(e => (e.Sender, e.Sequence)));
        var afterFirst = log.Replay(missed, RecoveryVector.Empty.With(SenderA, 1), until)!;
        Assert.Equal([(SenderB, 2L), (SenderA, 3L)], afterFirst.Select(e => (e.Sender, e.Sequence)));
    }

    [Fact]
    public void A_session_whose_client_needs_what_the_history_no_longer_holds_is_not_recovered()
    {
        var log = NewLog(o => o.HistoryPackets = 100);
        for (var i = 1; i <= 150; i++)
        {
            log.Accept(Message(A, i, start: i == 1), _delivered);
        }

        var missed = log.Suspend("s", ["s"]);

        Assert.Null(log.Replay(missed, RecoveryVector.Empty.With(SenderA, 10), log.Vector));
        Assert.Equal(50, log.Replay(missed, RecoveryVector.Empty.With(SenderA, 100), log.Vector)!.Count);
    }

    [Fact]
    public void A_session_past_its_cap_is_not_recovered()
    {
        var log = NewLog(o => o.MaxMissedPackets = 2);
        log.Accept(Message(A, 1, start: true, rooms: ["other"]), _delivered);
        var missed = log.Suspend("s", ["s"]);
        for (var i = 2; i <= 4; i++)
        {
            log.Accept(Message(A, i), _delivered);
        }

        Assert.Null(log.Replay(missed, RecoveryVector.Empty.With(SenderA, 1), log.Vector));
    }

    [Fact]
    public void A_session_in_a_room_joined_for_it_while_away_gets_that_rooms_broadcasts()
    {
        var log = NewLog();
        var missed = log.Suspend("s", ["s"]);
        log.Accept(Message(A, 1, start: true, rooms: ["joined"]), _delivered);
        log.ChangeRooms(missed, ["s", "joined"]);
        log.Accept(Message(A, 2, rooms: ["joined"]), _delivered);

        Assert.Equal(["s"], log.SuspendedIn(["joined"], []));
        Assert.Equal([2L], log.Replay(missed, RecoveryVector.Empty, log.Vector)!.Select(e => e.Sequence));
    }

    [Fact]
    public async Task Waiting_for_a_vector_completes_once_the_silo_took_it()
    {
        var log = NewLog();
        var wait = log.WaitForAsync(RecoveryVector.Empty.With(SenderA, 2), TimeSpan.FromMinutes(1));
        log.Accept(Message(A, 1, start: true), _delivered);
        Assert.False(wait.IsCompleted);

        log.Accept(Message(A, 2), _delivered);

        Assert.True(await wait);
    }

    [Fact]
    public void An_offset_and_a_pid_read_back_and_anything_else_is_refused()
    {
        var vector = RecoveryVector.Empty.With(SenderB, 7).With(SenderA, 123_456_789_012);
        Assert.True(RecoveryVector.TryParseOffset(vector.ToOffset(), out var read));
        Assert.Equal(vector, read);
        Assert.Equal(123_456_789_012, read[SenderA]);

        var token = new SessionToken(Naming.SocketIds.New(), SessionToken.NewSecret(), vector);
        Assert.True(SessionToken.TryParse(token.ToString(), out var parsed));
        Assert.Equal(token.SocketId, parsed.SocketId);
        Assert.True(parsed.Opens(token.Secret.Span));
        Assert.Equal(vector, parsed.Start);

        foreach (var bad in new[] { "", "abc", "not base64!", vector.ToOffset()[..^2], token.ToString()[..25] })
        {
            Assert.False(RecoveryVector.TryParseOffset(bad, out _), bad);
            Assert.False(SessionToken.TryParse(bad, out _), bad);
        }
    }

    private NamespaceLog NewLog(Action<ConnectionStateRecoveryOptions>? configure = null)
    {
        var options = new ConnectionStateRecoveryOptions();
        configure?.Invoke(options);
        return new NamespaceLog("/", options, _time);
    }

    private static ClusterMessage Message(SiloAddress origin, long sequence, bool start = false, string[]? rooms = null, string[]? except = null)
    {
        var message = new ClusterMessage
        {
            Type = ClusterMessageType.Broadcast,
            Namespace = "/",
            Rooms = [.. rooms ?? []],
            Except = [.. except ?? []],
            Data = "[\"ev\"]"u8.ToArray(),
        }.WithSequence(origin, sequence);
        return start ? message.AsStreamStart() : message;
    }

    private sealed class Delivered : IRecoveryDelivery
    {
        public List<long> Sequences { get; } = [];

        public List<RecoveryVector> Vectors { get; } = [];

        public void Deliver(ClusterMessage message, RecoveryVector vector)
        {
            Sequences.Add(message.Sequence);
            Vectors.Add(vector);
        }
    }
}
