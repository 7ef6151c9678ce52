using OrleansRooms.Silo.Tests.Infrastructure;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Recovery;

/// <summary>
/// Connection state recovery across the gateways of a cluster, with the official client behind a relay that plays the
/// load balancer: the client comes back through another gateway, after its first one dropped the connection, stopped
/// cleanly during a back-to-back stream of broadcasts, or was killed. It gets its socket and rooms, and every packet
/// of the stream exactly once, in order.
/// </summary>
public sealed class ClusterRecoveryTests
{
    // The client: joins r1, records the stream ("n", numbered from 1) and the reconnections, and reports at "end".
    private const string Client = """
        import { io } from "socket.io-client";
        const socket = io(process.env.URL, { transports: ["websocket"], reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 300 });
        const got = [];
        let firstId = null;
        socket.on("n", (n) => got.push(n));
        socket.on("connect", () => {
          if (firstId === null) {
            firstId = socket.id;
            socket.emit("join", "r1", () => console.log("joined"));
          } else {
            console.log(JSON.stringify({ recovered: socket.recovered, sameId: socket.id === firstId }));
          }
        });
        socket.on("end", (last) => {
          const wrong = got.filter((n, i) => n !== i + 1).slice(0, 5);
          console.log(JSON.stringify({ last, count: got.length, wrong }));
          socket.disconnect();
          process.exit(0);
        });
        """;

    public enum Fault
    {
        ConnectionCut,
        GatewayStopped,
        GatewayKilled,
    }

    [Theory]
    [InlineData(Fault.ConnectionCut)]
    [InlineData(Fault.GatewayStopped)]
    [InlineData(Fault.GatewayKilled)]
    public async Task A_client_that_comes_back_through_another_gateway_gets_every_packet_once_in_order(Fault fault)
    {
        await using var redis = await RedisServer.StartAsync();
        await using var cluster = new OrleansGatewayCluster(gateways: 3)
        {
            RedisMembership = redis,
            Settings = new Dictionary<string, string>
            {
                ["SocketIO:ConnectionStateRecovery:MaxDisconnectionDuration"] = "00:01:00",
            },
        };
        await cluster.StartAsync();
        foreach (var gateway in cluster.Gateways)
        {
            gateway.Io.OnConnection(socket => socket.On("join", async e =>
            {
                await socket.JoinAsync(e.Arguments.Get<string>(0)!);
                e.Ack();
            }));
        }

        var (first, publisher, second) = (cluster.Gateways[1], cluster.Gateways[2], cluster.Gateways[0]);
        await using var relay = new TcpRelay(first.Url);
        await using var node = await NodeSession.StartAsync(Client, new Dictionary<string, string> { ["URL"] = relay.Url.ToString().TrimEnd('/') });
        Assert.Equal("joined", await node.NextLineAsync());

        // Broadcasts back to back from a third gateway, to the room and to the whole namespace, through the whole fault.
        using var stop = new CancellationTokenSource();
        var sent = new SentCount();
        var stream = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var n = sent.Value + 1;
                await (n % 3 == 0 ? publisher.Io.EmitAsync("n", n) : publisher.Io.To("r1").EmitAsync("n", n));
                sent.Set(n);
            }
        });
        await sent.PastAsync(200);

        relay.Resume(second.Url);
        switch (fault)
        {
            case Fault.ConnectionCut:
                relay.Cut(refuse: false);
                break;
            case Fault.GatewayStopped:
                await cluster.StopGatewayAsync(first);
                break;
            case Fault.GatewayKilled:
                await cluster.KillGatewayAsync(first);
                // The dead process's connections go with it.
                relay.Cut(refuse: false);
                break;
        }

        Assert.Equal("""{"recovered":true,"sameId":true}""", await node.NextLineAsync());
        await sent.PastAsync(sent.Value + 200);
        await stop.CancelAsync();
        await stream;

        var last = sent.Value;
        await publisher.Io.To("r1").EmitAsync("end", last);
        Assert.Equal($$"""{"last":{{last}},"count":{{last}},"wrong":[]}""", await node.NextLineAsync());
    }

    /// <summary>How many broadcasts the stream has sent, and a signal once it has sent more than a given number.</summary>
    private sealed class SentCount
    {
        private readonly Lock _lock = new();
        private readonly List<(int Count, TaskCompletionSource Past)> _waiters = [];
        private int _value;

        public int Value
        {
            get
            {
                lock (_lock)
                {
                    return _value;
                }
            }
        }

        public void Set(int value)
        {
            lock (_lock)
            {
                _value = value;
                foreach (var waiter in _waiters.FindAll(w => value > w.Count))
                {
                    waiter.Past.TrySetResult();
                    _waiters.Remove(waiter);
                }
            }
        }

        public Task PastAsync(int count)
        {
            lock (_lock)
            {
                if (_value > count)
                {
                    return Task.CompletedTask;
                }

                var past = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((count, past));
                return past.Task.WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
    }
}
