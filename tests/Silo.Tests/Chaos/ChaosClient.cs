using OrleansRooms.Specification;

namespace OrleansRooms.Silo.Tests.Chaos;

/// <summary>
/// One <see cref="TestClient"/> of the run, connected to one gateway: what it received (read as it arrives, so nothing
/// waits on it), whether one of the run's operations is using it, the history of its membership of each room, and
/// when the run stopped counting on it (it closed the connection, or killed its gateway).
/// </summary>
internal sealed class ChaosClient
{
    private readonly Dictionary<int, int> _probes = [];
    private readonly Dictionary<string, int> _finals = new(StringComparer.Ordinal);
    private readonly List<string> _unexpected = [];
    private readonly TaskCompletionSource _end = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _gone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _busy;

    public ChaosClient(TestClient client, ChaosGateway gateway, long connectedAt)
    {
        Client = client;
        Gateway = gateway;
        ConnectedAt = connectedAt;
        Reading = ReadAsync();
    }

    public TestClient Client { get; }

    public string Id => Client.Id;

    public ChaosGateway Gateway { get; }

    /// <summary>When its CONNECT answer came.</summary>
    public long ConnectedAt { get; }

    /// <summary>When the run closed it or began to kill its gateway; <see cref="long.MaxValue"/> while it counts as live.</summary>
    public long GoneAt { get; private set; } = long.MaxValue;

    public bool IsLive => GoneAt == long.MaxValue;

    /// <summary>Why it is gone.</summary>
    public string? GoneBecause { get; private set; }

    /// <summary>Completes once it is gone, so no operation waits for an answer it will not get.</summary>
    public Task Gone => _gone.Task;

    /// <summary>Its membership of each room (guarded by the run's model lock).</summary>
    public Dictionary<string, RoomHistory> Rooms { get; } = new(StringComparer.Ordinal);

    public Task Reading { get; }

    /// <summary>Completes when the run's end marker arrived.</summary>
    public Task End => _end.Task;

    public RoomHistory History(string room)
    {
        if (!Rooms.TryGetValue(room, out var history))
        {
            Rooms[room] = history = new RoomHistory();
        }

        return history;
    }

    /// <summary>Takes the client for one operation; false when another has it or it is gone.</summary>
    public bool TryAcquire() => IsLive && Interlocked.CompareExchange(ref _busy, 1, 0) == 0;

    public void Release() => Volatile.Write(ref _busy, 0);

    /// <summary>Marks the client gone from <paramref name="at"/> on (the first reason counts).</summary>
    public void MarkGone(long at, string because)
    {
        lock (_probes)
        {
            if (!IsLive)
            {
                return;
            }

            GoneAt = at;
            GoneBecause = because;
        }

        _gone.TrySetResult();
    }

    /// <summary>How many copies of probe <paramref name="seq"/> arrived.</summary>
    public int Received(int seq)
    {
        lock (_probes)
        {
            return _probes.GetValueOrDefault(seq);
        }
    }

    /// <summary>The rooms named by the final broadcasts that arrived, with how many copies of each.</summary>
    public IReadOnlyDictionary<string, int> Finals()
    {
        lock (_probes)
        {
            return new Dictionary<string, int>(_finals, StringComparer.Ordinal);
        }
    }

    /// <summary>Events that are none of the run's.</summary>
    public IReadOnlyList<string> Unexpected()
    {
        lock (_probes)
        {
            return [.. _unexpected];
        }
    }

    public override string ToString() => $"{Id} on {Gateway.Name}";

    private async Task ReadAsync()
    {
        await foreach (var e in Client.ReadEventsAsync())
        {
            lock (_probes)
            {
                switch (e.Name)
                {
                    case "probe":
                        var seq = e[0].GetInt32();
                        _probes[seq] = _probes.GetValueOrDefault(seq) + 1;
                        break;
                    case "final":
                        var room = e[0].GetString()!;
                        _finals[room] = _finals.GetValueOrDefault(room) + 1;
                        break;
                    case "end":
                        _end.TrySetResult();
                        break;
                    default:
                        _unexpected.Add(e.Arguments.GetRawText());
                        break;
                }
            }
        }
    }
}

/// <summary>A gateway of the run: its node, a short name for messages, and when the run began to kill it.</summary>
internal sealed class ChaosGateway(GatewayNode node, string name)
{
    public GatewayNode Node { get; } = node;

    public string Name { get; } = name;

    public SocketIOServer Io => Node.Io;

    /// <summary>When the run began to kill it; <see cref="long.MaxValue"/> while it lives.</summary>
    public long KilledAt { get; set; } = long.MaxValue;

    public bool IsKilled => KilledAt != long.MaxValue;

    public override string ToString() => Name;
}
