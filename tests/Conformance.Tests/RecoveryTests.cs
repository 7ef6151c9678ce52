using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using OrleansRooms.Conformance.Infrastructure;
using OrleansRooms.Grains.Recovery;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Conformance;

/// <summary>
/// Connection state recovery on one gateway, with the official client: the connection is cut (a reset, from a relay
/// between client and server, as a dropped network) or closed by the client, broadcasts go on meanwhile, and the client
/// that comes back gets its socket, rooms, data and every missed packet, once and in order.
/// </summary>
public sealed class RecoveryTests
{
    private const string Until = """
        const until = async (check, what, ms = 10000) => {
          const end = Date.now() + ms;
          while (!check()) {
            if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
            await new Promise(r => setTimeout(r, 10));
          }
        };
        """;

    [Theory]
    [InlineData("websocket")]
    [InlineData("polling")]
    public async Task A_client_whose_connection_is_cut_gets_its_socket_rooms_data_and_missed_packets(string transport)
    {
        var server = new RecoveringServer();
        await using var gateway = await TestGateway.StartAsync(server.Configure, Recovery());
        await using var relay = new TcpRelay(gateway.Url);

        var scenario = NodeScenario.RunAsync(relay.Url, Until + $$"""
            const socket = connect("/", { transports: ["{{transport}}"], reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
            const news = record(socket, "news");
            await connected(socket);
            const firstId = socket.id;
            await ack(socket, "join", "r1");
            socket.emit("ready");
            await until(() => news.length === 1, "the packet before the cut");
            socket.emit("got", 1);
            await once(socket, "disconnect", 10000);
            await once(socket, "connect", 15000);
            eq(socket.recovered, true, "recovered");
            eq(socket.id, firstId, "the same id");
            await until(() => news.length === 6, "every missed packet, then one sent after");
            eq(news.map(args => args[0]), [1, 2, 3, 4, 5, 6], "each packet once, in order");
            assert(news.every(args => typeof args[1] === "string"), "each packet carries its offset");
            eq(await ack(socket, "state"), [true, ["r1"], "alice"], "recovered, rooms and data on the server");
            """, TimeSpan.FromSeconds(40));

        var socket = await server.Ready.Within();
        await gateway.Io.To("r1").EmitAsync("news", 1);
        await server.Got.Within();
        relay.Cut();
        Assert.Contains(await server.Disconnected.Within(), new[] { DisconnectReason.TransportClose, DisconnectReason.TransportError, DisconnectReason.PingTimeout });

        await gateway.Io.To("r1").EmitAsync("news", 2);
        await gateway.Io.To("r1").Except("nobody").EmitAsync("news", 3);
        await gateway.Io.EmitAsync("news", 4);
        await gateway.Io.To(socket.Id).EmitAsync("news", 5);
        await gateway.Io.Volatile.EmitAsync("news", "volatile: not replayed");
        await gateway.Io.To("other-room").EmitAsync("news", "for others");
        relay.Resume();

        var recovered = await server.Recovered.Within();
        Assert.Equal(socket.Id, recovered.Id);
        Assert.Equal(1, server.Middlewares);
        await gateway.Io.To("r1").EmitAsync("news", 6);
        await scenario;
    }

    [Fact]
    public async Task A_client_that_closes_its_own_connection_recovers_through_the_middleware_when_configured_so()
    {
        var server = new RecoveringServer();
        await using var gateway = await TestGateway.StartAsync(server.Configure, Recovery(o => o.SkipMiddlewares = false));

        var scenario = NodeScenario.RunAsync(gateway.Url, Until + """
            const socket = connect("/", { reconnection: true, reconnectionDelay: 2000, reconnectionDelayMax: 2000 });
            const news = record(socket, "news");
            await connected(socket);
            const firstId = socket.id;
            await ack(socket, "join", "r1");
            socket.emit("ready");
            await until(() => news.length === 1, "the first packet");
            const disconnect = once(socket, "disconnect", 10000);
            socket.io.engine.close();
            await disconnect;
            socket.emit("got", 1);
            await once(socket, "connect", 15000);
            eq([socket.recovered, socket.id], [true, firstId], "recovered with its id");
            await until(() => news.length === 3, "the missed packets");
            eq(news.map(args => args[0]), [1, 2, 3], "once, in order");
            """, TimeSpan.FromSeconds(40));

        await server.Ready.Within();
        await gateway.Io.To("r1").EmitAsync("news", 1);
        await server.Disconnected.Within();
        await gateway.Io.To("r1").EmitAsync("news", 2);
        await gateway.Io.EmitAsync("news", 3);
        await server.Recovered.Within();
        Assert.Equal(2, server.Middlewares);
        await scenario;
    }

    [Fact]
    public async Task A_client_that_received_nothing_before_the_cut_recovers()
    {
        var server = new RecoveringServer();
        await using var gateway = await TestGateway.StartAsync(server.Configure, Recovery());
        await using var relay = new TcpRelay(gateway.Url);

        var scenario = NodeScenario.RunAsync(relay.Url, Until + """
            const socket = connect("/", { transports: ["websocket"], reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
            const news = record(socket, "news");
            await connected(socket);
            const firstId = socket.id;
            socket.emit("ready");
            await once(socket, "disconnect", 10000);
            await once(socket, "connect", 15000);
            eq([socket.recovered, socket.id], [true, firstId], "recovered with its id");
            await until(() => news.length === 2, "the missed packets");
            eq(news.map(args => args[0]), [1, 2], "once, in order");
            """, TimeSpan.FromSeconds(40));

        var socket = await server.Ready.Within();
        relay.Cut();
        await server.Disconnected.Within();
        await gateway.Io.EmitAsync("news", 1);
        await gateway.Io.To(socket.Id).EmitAsync("news", 2);
        relay.Resume();
        await server.Recovered.Within();
        await scenario;
    }

    [Fact]
    public async Task Rooms_joined_and_left_for_a_socket_while_it_was_away_are_its_rooms_when_it_comes_back()
    {
        var server = new RecoveringServer();
        await using var gateway = await TestGateway.StartAsync(server.Configure, Recovery());
        await using var relay = new TcpRelay(gateway.Url);

        var scenario = NodeScenario.RunAsync(relay.Url, Until + """
            const socket = connect("/", { transports: ["websocket"], reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
            const news = record(socket, "news");
            await connected(socket);
            await ack(socket, "join", "r1");
            socket.emit("ready");
            await once(socket, "disconnect", 10000);
            await once(socket, "connect", 15000);
            eq(socket.recovered, true, "recovered");
            await until(() => news.length === 1, "the broadcast to the room joined meanwhile");
            eq(news.map(args => args[0]), ["to r2"], "only that one");
            eq(await ack(socket, "state"), [true, ["r2"], "alice"], "in the room joined meanwhile, not in the one left");
            """, TimeSpan.FromSeconds(40));

        var socket = await server.Ready.Within();
        relay.Cut();
        await server.Disconnected.Within();
        await gateway.Io.In(socket.Id).SocketsJoinAsync("r2");
        await gateway.Io.In("r1").SocketsLeaveAsync("r1");
        await gateway.Io.To("r1").EmitAsync("news", "to r1, left meanwhile");
        await gateway.Io.To("r2").EmitAsync("news", "to r2");
        relay.Resume();
        await server.Recovered.Within();
        await scenario;
    }

    [Fact]
    public async Task A_deliberate_disconnect_does_not_recover()
    {
        var server = new RecoveringServer();
        await using var gateway = await TestGateway.StartAsync(server.Configure, Recovery());

        await NodeScenario.RunAsync(gateway.Url, """
            const socket = await connected(connect("/"));
            const firstId = socket.id;
            await ack(socket, "join", "r1");
            socket.disconnect();
            socket.connect();
            await connected(socket);
            eq(socket.recovered, false, "not recovered");
            assert(socket.id !== firstId, "a new id");
            eq(await ack(socket, "state"), [false, [], null], "a new socket on the server");
            """);
    }

    [Fact]
    public async Task A_pid_already_in_use_a_forged_pid_and_an_offset_never_issued_get_a_new_session()
    {
        var server = new RecoveringServer();
        await using var gateway = await TestGateway.StartAsync(server.Configure, Recovery());

        await NodeScenario.RunAsync(gateway.Url, Until + """
            const first = connect("/");
            const news = record(first, "news");
            await connected(first);
            await ack(first, "join", "r1");
            await ack(first, "broadcast", "r1", 1);
            await until(() => news.length === 1, "a packet with an offset");
            const pid = first._pid, offset = first._lastOffset;
            assert(typeof pid === "string" && typeof offset === "string", "a pid and an offset");

            const attempts = [
              { pid, offset },
              { pid: pid.slice(0, 20) + "A".repeat(pid.length - 20), offset },
              { pid, offset: offset.slice(0, -2) + "zz" },
              { pid: "not a pid" },
            ];
            const elsewhere = await connected(connect("/other", { auth: { pid, offset } }));
            eq([elsewhere.recovered, await ack(elsewhere, "state")], [false, [false]], "a pid of another namespace names no session there");
            for (const auth of attempts) {
              const other = await connected(connect("/", { auth }));
              eq(other.recovered, false, "not recovered: " + JSON.stringify(auth));
              assert(other.id !== first.id, "a new id");
              eq(await ack(other, "state"), [false, [], null], "nothing of the first socket");
              other.disconnect();
            }

            eq(first.connected, true, "the first socket is still connected");
            eq(await ack(first, "state"), [false, ["r1"], "alice"], "and still itself");
            """);
    }

    [Fact]
    public async Task A_session_whose_window_is_over_or_whose_buffer_overflowed_is_not_recovered()
    {
        foreach (var (settings, overflow) in new (Action<ConnectionStateRecoveryOptions>, bool)[]
        {
            (o => o.MaxDisconnectionDuration = TimeSpan.FromSeconds(1), false),
            (o => o.MaxMissedPackets = 2, true),
        })
        {
            var server = new RecoveringServer();
            await using var gateway = await TestGateway.StartAsync(server.Configure, Recovery(settings));
            await using var relay = new TcpRelay(gateway.Url);
            using var expired = new CounterWatch(gateway.Services, "OrleansRooms.Recovery", "orleansrooms.recovery.sessions.expired");

            var scenario = NodeScenario.RunAsync(relay.Url, """
                const socket = connect("/", { transports: ["websocket"], reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
                await connected(socket);
                const firstId = socket.id;
                await ack(socket, "join", "r1");
                socket.emit("ready");
                await once(socket, "disconnect", 10000);
                await once(socket, "connect", 15000);
                eq(socket.recovered, false, "not recovered");
                assert(socket.id !== firstId, "a new id");
                """, TimeSpan.FromSeconds(40));

            await server.Ready.Within();
            relay.Cut();
            await server.Disconnected.Within();
            if (overflow)
            {
                for (var i = 0; i < 3; i++)
                {
                    await gateway.Io.To("r1").EmitAsync("news", i);
                }
            }
            else
            {
                await expired.Reached(1);
            }

            relay.Resume();
            await scenario;
        }
    }

    private static Action<SocketIOOptions> Recovery(Action<ConnectionStateRecoveryOptions>? configure = null) => options =>
    {
        // A cut long-polling connection is noticed by the server when its client misses a ping.
        options.PingInterval = TimeSpan.FromSeconds(1);
        options.PingTimeout = TimeSpan.FromSeconds(1);
        options.ConnectionStateRecovery = new ConnectionStateRecoveryOptions();
        configure?.Invoke(options.ConnectionStateRecovery);
    };

    /// <summary>The server side of the tests: a room to join, data set on the first connection, and what it saw.</summary>
    private sealed class RecoveringServer
    {
        private int _connections;

        public TaskCompletionSource<Socket> Ready { get; } = Signal.Create<Socket>();

        public TaskCompletionSource<int> Got { get; } = Signal.Create<int>();

        public TaskCompletionSource<string> Disconnected { get; } = Signal.Create<string>();

        public TaskCompletionSource<Socket> Recovered { get; } = Signal.Create<Socket>();

        /// <summary>How many times the namespace's middleware ran.</summary>
        public int Middlewares => Volatile.Read(ref _middlewares);

        private int _middlewares;

        public void Configure(SocketIOServer io)
        {
            io.Sockets.Use(async (_, next) =>
            {
                Interlocked.Increment(ref _middlewares);
                await next();
            });
            io.Of("/other").OnConnection(socket => socket.On("state", e => e.Ack(socket.Recovered)));
            ConfigureMain(io);
        }

        private void ConfigureMain(SocketIOServer io) => io.OnConnection(socket =>
        {
            if (socket.Recovered)
            {
                Recovered.TrySetResult(socket);
            }
            else if (Interlocked.Increment(ref _connections) == 1)
            {
                socket.Data["name"] = "alice";
            }

            socket.On("join", async e =>
            {
                await socket.JoinAsync(e.Arguments.Get<string>(0)!);
                e.Ack();
            });
            socket.On("broadcast", async e =>
            {
                await io.To(e.Arguments.Get<string>(0)!).EmitAsync("news", e.Arguments.Get<int>(1));
                e.Ack();
            });
            socket.On("state", e => e.Ack(
                socket.Recovered,
                socket.Rooms.Where(room => room != socket.Id).Order().ToArray(),
                socket.Data.TryGetValue("name", out var name) ? name?.ToString() : null));
            socket.On("ready", _ => Ready.TrySetResult(socket));
            socket.On("got", e => Got.TrySetResult(e.Arguments.Get<int>(0)));
            socket.OnDisconnect(reason => Disconnected.TrySetResult(reason));
        });
    }

    /// <summary>Waits for a counter of the gateway's meters to reach a value.</summary>
    private sealed class CounterWatch : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<TaskCompletionSource> _waiters = new();
        private long _value;

        public CounterWatch(IServiceProvider services, string meter, string instrument)
        {
            var factory = services.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (i, listener) =>
            {
                if (i.Meter.Name == meter && i.Name == instrument && ReferenceEquals(i.Meter.Scope, factory))
                {
                    listener.EnableMeasurementEvents(i);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) =>
            {
                Interlocked.Add(ref _value, value);
                while (_waiters.TryDequeue(out var waiter))
                {
                    waiter.TrySetResult();
                }
            });
            _listener.Start();
        }

        public async Task Reached(long value)
        {
            var deadline = Task.Delay(Signal.Timeout);
            while (Interlocked.Read(ref _value) < value)
            {
                var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Enqueue(changed);
                if (Interlocked.Read(ref _value) >= value)
                {
                    break;
                }

                if (await Task.WhenAny(changed.Task, deadline) == deadline)
                {
                    throw new TimeoutException($"counter not at {value} within {Signal.Timeout}");
                }
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
