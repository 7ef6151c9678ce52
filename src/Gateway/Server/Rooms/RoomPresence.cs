using System.Collections.Immutable;
using OrleansRooms.Cluster;
using OrleansRooms.Grains.Messages;
using OrleansRooms.Rooms;

namespace OrleansRooms;

/// <summary>
/// Who joins and leaves the rooms of one namespace on every gateway of the cluster (<c>io.Of("/chat").Presence</c>):
/// <see cref="Joined"/> and <see cref="Left"/> are raised for a socket of any gateway, once its session has recorded
/// the change, so a count read in a handler includes it. A socket's own room (named by its id) is left out.
/// <para>
/// Off until a handler is added on this gateway, and then on for this gateway only: it sends its sockets' changes to
/// every other gateway and raises theirs. Add the handlers on every gateway (the startup code that runs on each does);
/// a gateway without one sends nothing, so its sockets' changes are not seen elsewhere. Delivery between gateways is at
/// most once: a change is lost when a gateway's queue is full (<see cref="MaxQueuedChanges"/>) or a delivery call fails,
/// both logged. The changes of one gateway reach another in the order it recorded them, so a socket's own changes
/// arrive in order; changes made on two gateways have no order between them. See docs/presence.md.
/// </para>
/// </summary>
public sealed class RoomPresence
{
    /// <summary>How many changes a gateway holds for the others before it drops new ones (logged).</summary>
    public const int MaxQueuedChanges = 10_000;

    private readonly Lock _lock = new();
    private readonly Namespace _nsp;
    private Action<string, string>? _joined;
    private Action<string, string>? _left;
    private PresenceOutbox? _outbox;

    internal RoomPresence(Namespace nsp) => _nsp = nsp;

    /// <summary>A socket joined a room, on any gateway of the cluster: (room, socket id).</summary>
    public event Action<string, string>? Joined
    {
        add => Subscribe(ref _joined, value);
        remove => Unsubscribe(ref _joined, value);
    }

    /// <summary>
    /// A socket left a room, on any gateway of the cluster, or its disconnection took it out: (room, socket id). The
    /// sockets of a gateway that died leave their rooms once the cluster released them.
    /// </summary>
    public event Action<string, string>? Left
    {
        add => Subscribe(ref _left, value);
        remove => Unsubscribe(ref _left, value);
    }

    /// <summary>Whether this gateway has a handler: only then does it send its sockets' changes and raise the others'.</summary>
    public bool IsSubscribed => Volatile.Read(ref _joined) is not null || Volatile.Read(ref _left) is not null;

    /// <summary>
    /// Socket <paramref name="socketId"/> of this gateway joined (or left) those of <paramref name="rooms"/> it was not
    /// in (or was in) according to <paramref name="before"/>, and its session recorded it.
    /// </summary>
    internal void Changed(string socketId, IReadOnlyList<string> rooms, bool joined, IReadOnlyCollection<string> before)
    {
        if (!IsSubscribed)
        {
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var room in rooms)
        {
            if (room != socketId && before.Contains(room) != joined && seen.Add(room))
            {
                Record(new PresenceChange(room, socketId, joined));
            }
        }
    }

    /// <summary>A socket of a gateway that died left <paramref name="room"/>: this gateway raises it for the cluster.</summary>
    internal void Released(string room, string socketId)
    {
        if (IsSubscribed && room != socketId)
        {
            Record(new PresenceChange(room, socketId, Joined: false));
        }
    }

    /// <summary>Raises the changes another gateway recorded, in its order.</summary>
    internal void RaiseFromCluster(ImmutableArray<PresenceChange> changes)
    {
        if (!IsSubscribed)
        {
            return;
        }

        foreach (var change in changes)
        {
            Raise(change);
        }
    }

    private void Record(PresenceChange change)
    {
        Raise(change);
        Outbox().Post(change);
    }

    private PresenceOutbox Outbox()
    {
        if (Volatile.Read(ref _outbox) is { } outbox)
        {
            return outbox;
        }

        lock (_lock)
        {
            return _outbox ??= new PresenceOutbox(_nsp.Cluster, _nsp.Name, MaxQueuedChanges, _nsp.Server.Logger);
        }
    }

    private void Raise(PresenceChange change)
    {
        if ((change.Joined ? Volatile.Read(ref _joined) : Volatile.Read(ref _left)) is not { } handlers)
        {
            return;
        }

        // Each handler runs even when one before it throws: one subscriber's bug does not blind the others.
        foreach (var handler in handlers.GetInvocationList())
        {
            try
            {
                ((Action<string, string>)handler)(change.Room, change.SocketId);
            }
            catch (Exception ex)
            {
                PresenceLog.HandlerFailed(_nsp.Server.Logger, change.Joined ? "joined" : "left", _nsp.Name, change.Room, ex);
            }
        }
    }

    private void Subscribe(ref Action<string, string>? handlers, Action<string, string>? value)
    {
        lock (_lock)
        {
            handlers += value;
        }
    }

    private void Unsubscribe(ref Action<string, string>? handlers, Action<string, string>? value)
    {
        lock (_lock)
        {
            handlers -= value;
        }
    }
}
