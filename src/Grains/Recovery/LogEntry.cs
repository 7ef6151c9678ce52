using OrleansRooms.Grains.Messages;

namespace OrleansRooms.Grains.Recovery;

/// <summary>A broadcast a silo keeps for recovery: its sender, its place in the sender's sequence, and the message.</summary>
internal sealed class LogEntry
{
    // What an entry costs beyond its payload: the entry, the message object and the room arrays, roughly.
    private const int Overhead = 128;

    public LogEntry(uint sender, long sequence, ClusterMessage message)
    {
        Sender = sender;
        Sequence = sequence;
        Message = message;
        var size = Overhead + message.Data.Length;
        foreach (var attachment in message.Attachments)
        {
            size += attachment.Length;
        }

        Size = size;
    }

    public uint Sender { get; }

    public long Sequence { get; }

    public ClusterMessage Message { get; }

    /// <summary>The bytes the entry counts for.</summary>
    public int Size { get; }
}

/// <summary>
/// The broadcasts one disconnected socket missed, kept by the silo of its session from the moment it was disconnected
/// (and, from the silo's recent history, those just before: its client may have lost them in the dying connection).
/// Bounded: past <see cref="ConnectionStateRecoveryOptions.MaxMissedPackets"/> or <see cref="ConnectionStateRecoveryOptions.MaxMissedBytes"/>
/// it keeps nothing more and the socket cannot be recovered.
/// </summary>
internal sealed class MissedPackets(string socketId, IReadOnlyCollection<string> rooms, RecoveryVector coverage, int maxPackets, long maxBytes)
{
    private readonly List<LogEntry> _entries = [];
    private long _bytes;

    /// <summary>The socket.</summary>
    public string SocketId { get; } = socketId;

    /// <summary>The rooms of the socket, its own room included unless it left it.</summary>
    public HashSet<string> Rooms { get; } = new(rooms, StringComparer.Ordinal);

    /// <summary>For each sender, the last sequence number no longer kept when this started: a client that needs one before it cannot be recovered.</summary>
    public RecoveryVector Coverage { get; } = coverage;

    /// <summary>True when a packet the socket should get could not be kept (a cap, or a broadcast lost by the silo).</summary>
    public bool Incomplete { get; private set; }

    public IReadOnlyList<LogEntry> Entries => _entries;

    /// <summary>Whether a broadcast reaches a socket in <see cref="Rooms"/> (as Socket.IO decides it for a stored session).</summary>
    public bool Matches(ClusterMessage message) => Matches(message.Rooms, message.Except);

    /// <summary>Whether a selection of <paramref name="rooms"/> (all for none) but <paramref name="except"/> selects the socket.</summary>
    public bool Matches(IReadOnlyCollection<string> rooms, IReadOnlyCollection<string> except)
    {
        if (rooms.Count > 0)
        {
            var included = false;
            foreach (var room in rooms)
            {
                if (Rooms.Contains(room))
                {
                    included = true;
                    break;
                }
            }

            if (!included)
            {
                return false;
            }
        }

        foreach (var room in except)
        {
            if (Rooms.Contains(room))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Keeps <paramref name="entry"/> if it reaches the socket, once.</summary>
    public void Offer(LogEntry entry)
    {
        if (Incomplete || (_entries.Count > 0 && ReferenceEquals(_entries[^1], entry)) || !Matches(entry.Message))
        {
            return;
        }

        if (_entries.Count >= maxPackets || _bytes + entry.Size > maxBytes)
        {
            MarkIncomplete();
            return;
        }

        _entries.Add(entry);
        _bytes += entry.Size;
    }

    /// <summary>Nothing more can be guaranteed: what is kept goes.</summary>
    public void MarkIncomplete()
    {
        Incomplete = true;
        _entries.Clear();
        _bytes = 0;
    }
}
