using OrleansRooms.Grains.Messages;

namespace OrleansRooms.Grains.Recovery;

/// <summary>What a gateway does with a broadcast its silo takes in sequence: deliver it to its sockets, with its offset.</summary>
internal interface IRecoveryDelivery
{
    /// <summary>
    /// Delivers <paramref name="message"/> to this gateway's selected sockets; <paramref name="vector"/> is where the
    /// silo is once it took it (the packet's offset). Called in each sender's order, under the log's lock: must not block.
    /// </summary>
    void Deliver(ClusterMessage message, RecoveryVector vector);
}

/// <summary>
/// One silo's sequenced broadcasts of one namespace, when recovery is on. Every silo takes every sequenced broadcast
/// (<see cref="ClusterMessage.Sequence"/>), from each sender in sequence order: one that arrives early waits for those
/// before it. Taking one advances the silo's <see cref="Vector"/>, hands it to the gateway (if the silo is one) with
/// that vector as its offset, keeps it in a bounded recent history, and gives it to the missed packets of each
/// disconnected session here that it reaches. A gateway's own broadcasts go through the same steps, under
/// <see cref="Lock"/>, so that its sockets get every packet in the order of the offsets they carry.
/// </summary>
internal sealed class NamespaceLog(string ns, ConnectionStateRecoveryOptions options, TimeProvider time)
{
    private readonly Dictionary<uint, SenderState> _senders = [];
    private readonly Queue<LogEntry> _history = new();
    private readonly HashSet<MissedPackets> _suspended = [];
    private readonly Dictionary<string, List<MissedPackets>> _suspendedByRoom = new(StringComparer.Ordinal);
    private readonly List<(RecoveryVector Target, TaskCompletionSource Done)> _waiters = [];
    private RecoveryVector _vector;
    private RecoveryVector _forgotten;
    private readonly HashSet<SiloAddress> _streamsStarted = [];
    private long _historyBytes;
    private long _published;

    /// <summary>The namespace.</summary>
    public string Namespace => ns;

    /// <summary>Held by whoever delivers in sequence on this silo: its own broadcasts, its direct emits, the intake.</summary>
    public Lock Lock { get; } = new();

    /// <summary>The settings.</summary>
    public ConnectionStateRecoveryOptions Options => options;

    /// <summary>Where this silo is in each sender's sequence: every broadcast before it has been taken.</summary>
    public RecoveryVector Vector
    {
        get
        {
            lock (Lock)
            {
                return _vector;
            }
        }
    }

    /// <summary>How many disconnected sessions this silo keeps packets for.</summary>
    public int SuspendedCount
    {
        get
        {
            lock (Lock)
            {
                return _suspended.Count;
            }
        }
    }

    /// <summary>
    /// Under <see cref="Lock"/>: gives this silo's next broadcast its place in the silo's sequence and takes it (history,
    /// missed packets); returns the message to send and the vector to deliver it with.
    /// </summary>
    public (ClusterMessage Message, RecoveryVector Vector) PublishLocked(ClusterMessage message, SiloAddress self)
    {
        var sequenced = message.WithSequence(self, ++_published);
        var state = Sender(self);
        Take(state, sequenced, delivery: null);
        return (sequenced, _vector);
    }

    /// <summary>Under <see cref="Lock"/>: <paramref name="message"/> as sent to <paramref name="silo"/>, marked if it is the first sent there.</summary>
    public ClusterMessage ForSiloLocked(ClusterMessage message, SiloAddress silo) => _streamsStarted.Add(silo) ? message.AsStreamStart() : message;

    /// <summary>Under <see cref="Lock"/>: where this silo is in each sender's sequence.</summary>
    public RecoveryVector VectorLocked => _vector;

    /// <summary>
    /// Takes a sequenced broadcast from another silo: now if it is the sender's next, later if one before it is still on
    /// its way. Each one taken goes to <paramref name="delivery"/> (a gateway's sockets), in order.
    /// </summary>
    public void Accept(ClusterMessage message, IRecoveryDelivery? delivery)
    {
        lock (Lock)
        {
            var state = Sender(message.Origin!);
            if (message.StartsStream && message.Sequence - 1 > state.Taken)
            {
                // The sender's first broadcast to this silo: what it sent before is not this silo's to take.
                var before = message.Sequence - 1;
                state.Taken = before;
                _vector = _vector.With(state.Id, before);
                if (before > _forgotten[state.Id])
                {
                    _forgotten = _forgotten.With(state.Id, before);
                }

                while (state.Held.Count > 0 && state.Held.GetKeyAtIndex(0) <= before)
                {
                    state.Held.RemoveAt(0);
                }
            }

            if (message.Sequence <= state.Taken || state.Held.ContainsKey(message.Sequence))
            {
                return;
            }

            if (message.Sequence != state.Taken + 1)
            {
                if (state.Held.Count == 0)
                {
                    state.HeldSince = time.GetTimestamp();
                }

                state.Held.Add(message.Sequence, message);
                if (state.Held.Count > options.HistoryPackets)
                {
                    SkipGap(state, delivery);
                }

                return;
            }

            Take(state, message, delivery);
            TakeHeld(state, delivery);
        }
    }

    /// <summary>
    /// Starts keeping the packets a disconnected session misses: those of the recent history that reach it, then every
    /// one taken from now on, until <see cref="Release"/>.
    /// </summary>
    public MissedPackets Suspend(string socketId, IReadOnlyCollection<string> rooms)
    {
        lock (Lock)
        {
            var missed = new MissedPackets(socketId, rooms, _forgotten, options.MaxMissedPackets, options.MaxMissedBytes);
            foreach (var entry in _history)
            {
                missed.Offer(entry);
            }

            _suspended.Add(missed);
            Index(missed);
            return missed;
        }
    }

    /// <summary>The disconnected sockets kept here that a selection of <paramref name="rooms"/> but <paramref name="except"/> selects.</summary>
    public List<string> SuspendedIn(IReadOnlyCollection<string> rooms, IReadOnlyCollection<string> except)
    {
        lock (Lock)
        {
            var ids = new List<string>();
            foreach (var missed in _suspended)
            {
                if (missed.Matches(rooms, except))
                {
                    ids.Add(missed.SocketId);
                }
            }

            return ids;
        }
    }

    /// <summary>A disconnected socket's rooms changed (a cluster-wide join or leave): it gets the broadcasts of its new rooms from now on.</summary>
    public void ChangeRooms(MissedPackets missed, IReadOnlyCollection<string> rooms)
    {
        lock (Lock)
        {
            if (!_suspended.Contains(missed))
            {
                return;
            }

            Unindex(missed);
            missed.Rooms.Clear();
            missed.Rooms.UnionWith(rooms);
            Index(missed);
        }
    }

    /// <summary>Stops keeping packets for <paramref name="missed"/>.</summary>
    public void Release(MissedPackets missed)
    {
        lock (Lock)
        {
            if (_suspended.Remove(missed))
            {
                Unindex(missed);
            }
        }
    }

    private void Index(MissedPackets missed)
    {
        foreach (var room in missed.Rooms)
        {
            if (!_suspendedByRoom.TryGetValue(room, out var list))
            {
                _suspendedByRoom[room] = list = [];
            }

            list.Add(missed);
        }
    }

    private void Unindex(MissedPackets missed)
    {
        foreach (var room in missed.Rooms)
        {
            if (_suspendedByRoom.TryGetValue(room, out var list))
            {
                list.Remove(missed);
                if (list.Count == 0)
                {
                    _suspendedByRoom.Remove(room);
                }
            }
        }
    }

    /// <summary>
    /// The packets of <paramref name="missed"/> after <paramref name="from"/> and up to <paramref name="until"/>, in order;
    /// null when some of them were not kept (the client cannot be recovered).
    /// </summary>
    public List<LogEntry>? Replay(MissedPackets missed, RecoveryVector from, RecoveryVector until)
    {
        lock (Lock)
        {
            if (missed.Incomplete)
            {
                return null;
            }

            foreach (var (sender, forgotten) in missed.Coverage.Entries)
            {
                if (from[sender] < forgotten && until[sender] > from[sender])
                {
                    return null;
                }
            }

            var replay = new List<LogEntry>();
            foreach (var entry in missed.Entries)
            {
                if (entry.Sequence > from[entry.Sender] && entry.Sequence <= until[entry.Sender])
                {
                    replay.Add(entry);
                }
            }

            return replay;
        }
    }

    /// <summary>Completes once this silo has taken every broadcast up to <paramref name="target"/>; false after <paramref name="bound"/>.</summary>
    public async Task<bool> WaitForAsync(RecoveryVector target, TimeSpan bound)
    {
        TaskCompletionSource done;
        lock (Lock)
        {
            if (target.IsCoveredBy(_vector))
            {
                return true;
            }

            done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((target, done));
        }

        try
        {
            await done.Task.WaitAsync(bound, time).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            lock (Lock)
            {
                _waiters.RemoveAll(w => w.Done == done);
                return target.IsCoveredBy(_vector);
            }
        }
    }

    /// <summary>
    /// A silo left the cluster: what it sent that is still waiting for an earlier one is taken now (the earlier ones are
    /// lost with it), and once no session can need its place any more it leaves the vector.
    /// </summary>
    public void OnSiloLeft(SiloAddress silo, IRecoveryDelivery? delivery)
    {
        lock (Lock)
        {
            if (_senders.TryGetValue(RecoveryVector.SenderOf(silo), out var state))
            {
                state.LeftAt = time.GetTimestamp();
                if (state.Held.Count > 0)
                {
                    SkipGap(state, delivery);
                }
            }
        }
    }

    /// <summary>
    /// Called every second: a broadcast waiting too long for an earlier one (lost in a failure that did not remove its
    /// sender) stops waiting, and senders gone for longer than a session waits are forgotten.
    /// </summary>
    public void Tick(TimeSpan holdLimit, IRecoveryDelivery? delivery)
    {
        lock (Lock)
        {
            List<uint>? gone = null;
            foreach (var (sender, state) in _senders)
            {
                if (state.Held.Count > 0 && time.GetElapsedTime(state.HeldSince) > holdLimit)
                {
                    SkipGap(state, delivery);
                }

                if (state.LeftAt is { } left && time.GetElapsedTime(left) > options.MaxDisconnectionDuration + holdLimit)
                {
                    (gone ??= []).Add(sender);
                }
            }

            foreach (var sender in gone ?? [])
            {
                _senders.Remove(sender);
                _vector = _vector.Without(sender);
                _forgotten = _forgotten.Without(sender);
            }
        }
    }

    private SenderState Sender(SiloAddress silo)
    {
        var id = RecoveryVector.SenderOf(silo);
        if (!_senders.TryGetValue(id, out var state))
        {
            _senders[id] = state = new SenderState(id);
        }

        return state;
    }

    private void Take(SenderState state, ClusterMessage message, IRecoveryDelivery? delivery)
    {
        state.Taken = message.Sequence;
        _vector = _vector.With(state.Id, message.Sequence);
        var entry = new LogEntry(state.Id, message.Sequence, message);
        _history.Enqueue(entry);
        _historyBytes += entry.Size;
        while (_history.Count > options.HistoryPackets || _historyBytes > options.HistoryBytes)
        {
            var old = _history.Dequeue();
            _historyBytes -= old.Size;
            if (old.Sequence > _forgotten[old.Sender])
            {
                _forgotten = _forgotten.With(old.Sender, old.Sequence);
            }
        }

        if (_suspended.Count > 0)
        {
            Offer(entry);
        }

        delivery?.Deliver(message, _vector);
        if (_waiters.Count > 0)
        {
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Target.IsCoveredBy(_vector))
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    private void Offer(LogEntry entry)
    {
        if (entry.Message.Rooms.Length == 0)
        {
            foreach (var missed in _suspended)
            {
                missed.Offer(entry);
            }

            return;
        }

        foreach (var room in entry.Message.Rooms)
        {
            if (_suspendedByRoom.TryGetValue(room, out var list))
            {
                foreach (var missed in list)
                {
                    missed.Offer(entry);
                }
            }
        }
    }

    private void TakeHeld(SenderState state, IRecoveryDelivery? delivery)
    {
        while (state.Held.Count > 0 && state.Held.GetKeyAtIndex(0) == state.Taken + 1)
        {
            var next = state.Held.GetValueAtIndex(0);
            state.Held.RemoveAt(0);
            Take(state, next, delivery);
        }

        if (state.Held.Count > 0)
        {
            state.HeldSince = time.GetTimestamp();
        }
    }

    // The broadcasts between what was taken and the first one held will never come: no session that needed one can be
    // recovered, and the held ones are taken.
    private void SkipGap(SenderState state, IRecoveryDelivery? delivery)
    {
        var lostUpTo = state.Held.GetKeyAtIndex(0) - 1;
        if (lostUpTo > _forgotten[state.Id])
        {
            _forgotten = _forgotten.With(state.Id, lostUpTo);
        }

        foreach (var missed in _suspended)
        {
            missed.MarkIncomplete();
        }

        state.Taken = lostUpTo;
        _vector = _vector.With(state.Id, lostUpTo);
        TakeHeld(state, delivery);
    }

    private sealed class SenderState(uint id)
    {
        public uint Id { get; } = id;

        public long Taken { get; set; }

        public SortedList<long, ClusterMessage> Held { get; } = [];

        public long HeldSince { get; set; }

        public long? LeftAt { get; set; }
    }
}
