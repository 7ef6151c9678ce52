using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using OrleansRooms.Specification;

namespace OrleansRooms.Tests.SocketIO;

/// <summary>The Socket.IO server API beyond rooms: events, acks, middleware, namespaces, errors. Real sockets on loopback.</summary>
public sealed class ServerApiTests : IAsyncLifetime
{
    private readonly List<TestClient> _clients = [];
    private GatewayNode _node = null!;

    private SocketIOServer Io => _node.Io;

    public async Task InitializeAsync() => _node = await GatewayNode.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        await _node.DisposeAsync();
    }

    [Fact]
    public async Task Events_reach_their_handlers_with_typed_arguments_and_an_ack()
    {
        Io.OnConnection(socket => socket.On("add", e => e.Ack(e.Get<int>(0) + e.Get<int>(1))));
        var client = await ConnectAsync();

        var response = await client.EmitWithAckAsync("add", 2, 3);

        Assert.Equal(5, response[0].GetInt32());
    }

    [Fact]
    public async Task Only_the_first_ack_is_sent()
    {
        var second = new TaskCompletionSource<bool>();
        Io.OnConnection(socket => socket.On("ask", e =>
        {
            e.Ack("first");
            second.SetResult(e.Ack("second"));
        }));
        var client = await ConnectAsync();

        var response = await client.EmitWithAckAsync("ask");

        Assert.Equal("first", response[0].GetString());
        Assert.False(await second.Task);
    }

    [Fact]
    public async Task Server_to_client_acks_return_the_client_answer()
    {
        var client = await ConnectAsync();
        client.AutoAcks["question"] = "answer";
        var socket = Io.Sockets.Sockets[client.Id];

        var response = await socket.Timeout(TimeSpan.FromSeconds(5)).EmitWithAckAsync<string>("question", 1);

        Assert.Equal("answer", response);
    }

    [Fact]
    public async Task Server_to_client_acks_time_out()
    {
        var client = await ConnectAsync();
        var socket = Io.Sockets.Sockets[client.Id];

        await Assert.ThrowsAsync<TimeoutException>(() => socket.Timeout(TimeSpan.FromMilliseconds(200)).EmitWithAckAsync("ignored").AsTask());
        await client.ExpectEventAsync("ignored");
    }

    [Fact]
    public async Task Pending_acks_fail_when_the_socket_disconnects()
    {
        var client = await ConnectAsync();
        var socket = Io.Sockets.Sockets[client.Id];
        var pending = socket.EmitWithAckAsync("never answered").AsTask();
        await client.ExpectEventAsync("never answered");

        await client.CloseAsync();

        await Assert.ThrowsAsync<SocketDisconnectedException>(() => pending.WaitAsync(TestClient.DefaultWait));
    }

    [Fact]
    public async Task Catch_all_listeners_see_incoming_and_outgoing_events()
    {
        var incoming = new TaskCompletionSource<string>();
        var outgoing = new ConcurrentQueue<string>();
        Io.OnConnection(socket =>
        {
            socket.OnAny(e => incoming.TrySetResult($"{e.Name} {e.Arguments}"));
            socket.OnAnyOutgoing((name, args) => outgoing.Enqueue($"{name} {args.Length}"));
        });
        var client = await ConnectAsync();

        await client.EmitAsync("anything", 1, "two");
        // The connection handler runs after the client is told it is connected: its listeners are on once it saw an event.
        Assert.Equal("anything [1,\"two\"]", await incoming.Task.WaitAsync(TestClient.DefaultWait));
        await Io.EmitAsync("broadcast", 1, 2);
        await client.ExpectEventAsync("broadcast");

        Assert.Equal(["broadcast 2"], outgoing);
    }

    [Fact]
    public async Task Packet_middleware_can_stop_an_event_and_raises_error()
    {
        var handled = new ConcurrentQueue<string>();
        var errors = new TaskCompletionSource<string>();
        Io.OnConnection(socket =>
        {
            socket.Use(async (e, next) =>
            {
                if (e.Name == "forbidden")
                {
                    throw new InvalidOperationException("unauthorized event");
                }

                await next();
            });
            socket.OnError(ex => errors.TrySetResult(ex.Message));
            socket.On("forbidden", e => handled.Enqueue(e.Name));
            socket.On("allowed", e =>
            {
                handled.Enqueue(e.Name);
                e.Ack();
            });
        });
        var client = await ConnectAsync();

        await client.EmitAsync("forbidden");
        await client.EmitWithAckAsync("allowed");

        Assert.Equal("unauthorized event", await errors.Task.WaitAsync(TestClient.DefaultWait));
        Assert.Equal(["allowed"], handled);
    }

    [Fact]
    public async Task Namespace_middleware_refusal_becomes_a_connect_error_with_message_and_data()
    {
        Io.Use((socket, next) => throw new ConnectionRejectedException("not authorized", new { content = "Please retry later" }));
        var client = await TestClient.OpenAsync(_node.Url);
        _clients.Add(client);

        var error = await Assert.ThrowsAsync<ConnectErrorException>(() => client.JoinNamespaceAsync());

        Assert.Equal("not authorized", error.Payload.GetProperty("message").GetString());
        Assert.Equal("Please retry later", error.Payload.GetProperty("data").GetProperty("content").GetString());
    }

    [Fact]
    public async Task Namespace_middleware_sees_the_auth_payload_and_can_store_data()
    {
        Io.Use(async (socket, next) =>
        {
            socket.Data["token"] = socket.Handshake.Auth.GetProperty("token").GetString();
            await next();
        });
        var client = await ConnectAsync(auth: new { token = "abc" });

        Assert.Equal("abc", Io.Sockets.Sockets[client.Id].Data["token"]);
    }

    [Fact]
    public async Task Unexpected_middleware_exceptions_do_not_leak_to_the_client()
    {
        Io.Use((socket, next) => throw new InvalidOperationException("connection string: secret"));
        var client = await TestClient.OpenAsync(_node.Url);
        _clients.Add(client);

        var error = await Assert.ThrowsAsync<ConnectErrorException>(() => client.JoinNamespaceAsync());

        Assert.DoesNotContain("secret", error.Payload.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_namespace_gets_invalid_namespace()
    {
        var client = await TestClient.OpenAsync(_node.Url, "/nowhere");
        _clients.Add(client);

        var error = await Assert.ThrowsAsync<ConnectErrorException>(() => client.JoinNamespaceAsync());

        Assert.Equal("""{"message":"Invalid namespace"}""", error.Payload.GetRawText());
    }

    [Fact]
    public async Task A_dynamic_namespace_check_that_throws_refuses_the_namespace_and_the_server_goes_on()
    {
        Io.Of((name, _) => name == "/throws" ? throw new InvalidOperationException("check failed") : ValueTask.FromResult(false));
        var client = await TestClient.OpenAsync(_node.Url, "/throws");
        _clients.Add(client);

        var error = await Assert.ThrowsAsync<ConnectErrorException>(() => client.JoinNamespaceAsync());

        Assert.Equal("""{"message":"Invalid namespace"}""", error.Payload.GetRawText());
        await using var next = await TestClient.ConnectAsync(_node.Url);
        Assert.NotNull(next.Id);
    }

    [Fact]
    public async Task Dynamic_namespaces_are_created_by_pattern_and_share_the_parent_handlers()
    {
        var parent = Io.Of(new Regex("^/dynamic-\\d+$"));
        var connected = new ConcurrentQueue<string>();
        parent.OnConnection(socket => connected.Enqueue(socket.Namespace.Name));
        var first = await ConnectAsync("/dynamic-1");
        var second = await ConnectAsync("/dynamic-2");

        await parent.EmitAsync("to every child");

        await first.ExpectEventAsync("to every child");
        await second.ExpectEventAsync("to every child");
        Assert.Equal(["/dynamic-1", "/dynamic-2"], connected.Order());
        Assert.Same(Io.Of("/dynamic-1"), Io.Sockets.Server.Of("/dynamic-1"));
    }

    [Fact]
    public async Task Dynamic_namespaces_by_predicate_see_the_auth_payload()
    {
        Io.Of((name, auth) => ValueTask.FromResult(name.StartsWith("/team-", StringComparison.Ordinal) && auth?.GetProperty("ok").GetBoolean() == true));
        var allowed = await ConnectAsync("/team-a", new { ok = true });
        var refused = await TestClient.OpenAsync(_node.Url, "/team-b");
        _clients.Add(refused);

        Assert.False(string.IsNullOrEmpty(allowed.Id));
        await Assert.ThrowsAsync<ConnectErrorException>(() => refused.JoinNamespaceAsync(new { ok = false }));
    }

    [Fact]
    public async Task A_client_that_joins_no_namespace_is_closed_after_the_connect_timeout()
    {
        await using var node = await GatewayNode.StartAsync(configureOptions: o => o.ConnectTimeout = TimeSpan.FromMilliseconds(300));
        await using var client = await TestClient.OpenAsync(node.Url);

        await client.Closed.WaitAsync(TestClient.DefaultWait);
    }

    [Fact]
    public async Task An_invalid_packet_closes_that_client_with_parse_error_and_no_other()
    {
        var reasons = new ConcurrentDictionary<string, TaskCompletionSource<string>>();
        Io.OnConnection(socket => socket.OnDisconnect(reason => reasons.GetOrAdd(socket.Id, _ => new()).TrySetResult(reason)));
        var bad = await ConnectAsync();
        var good = await ConnectAsync();

        await bad.SendRawAsync("42[\"unterminated");
        await bad.Closed.WaitAsync(TestClient.DefaultWait);

        Assert.Equal(DisconnectReason.ParseError, await reasons.GetOrAdd(bad.Id, _ => new()).Task.WaitAsync(TestClient.DefaultWait));
        await Io.EmitAsync("still working");
        await good.ExpectEventAsync("still working");
        Assert.False(reasons.ContainsKey(good.Id));
    }

    [Theory]
    [InlineData("42[\"disconnect\"]")]
    [InlineData("42{\"not\":\"an array\"}")]
    [InlineData("9")]
    [InlineData("43")]
    [InlineData("42/unknown,[\"ev\"]")]
    public async Task Malformed_or_misplaced_packets_close_the_client(string packet)
    {
        var client = await ConnectAsync();

        await client.SendRawAsync(packet);

        await client.Closed.WaitAsync(TestClient.DefaultWait);
    }

    [Fact]
    public async Task Several_namespaces_share_one_connection_and_leave_independently()
    {
        Io.Of("/orders");
        var main = await ConnectAsync();
        var orders = await ConnectAsync("/orders");
        var gone = new TaskCompletionSource<string>();
        Io.Sockets.Sockets[main.Id].OnDisconnect(r => gone.TrySetResult(r));

        await main.DisconnectNamespaceAsync();

        Assert.Equal(DisconnectReason.ClientNamespaceDisconnect, await gone.Task.WaitAsync(TestClient.DefaultWait));
        await Io.Of("/orders").EmitAsync("still connected");
        await orders.ExpectEventAsync("still connected");
    }

    [Fact]
    public async Task A_namespaces_sockets_are_the_ones_connected_when_they_are_read_every_time()
    {
        var first = await ConnectAsync();
        Assert.Equal([first.Id], Io.Sockets.Sockets.Values.Select(s => s.Id));
        var second = await ConnectAsync();
        var gone = new TaskCompletionSource();
        Io.Sockets.Sockets[first.Id].OnDisconnect(_ => gone.TrySetResult());

        await first.DisconnectNamespaceAsync();
        await gone.Task.WaitAsync(TestClient.DefaultWait);

        Assert.Equal([second.Id], Io.Sockets.Sockets.Values.Select(s => s.Id));
        Assert.Equal([second.Id], Io.Sockets.Sockets.Keys);
    }

    [Fact]
    public async Task The_handshake_describes_the_first_request()
    {
        var client = await ConnectAsync(auth: new { token = "t" });
        var handshake = Io.Sockets.Sockets[client.Id].Handshake;

        Assert.Equal("127.0.0.1", handshake.Address);
        Assert.Equal("4", handshake.Query["EIO"]);
        Assert.StartsWith("/socket.io/", handshake.Url, StringComparison.Ordinal);
        Assert.False(handshake.Secure);
        Assert.InRange(handshake.Issued, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.False(string.IsNullOrEmpty(handshake.Time));
        Assert.Equal("t", handshake.GetAuth<JsonElement>().GetProperty("token").GetString());
    }

    [Fact]
    public async Task The_auth_payload_is_an_empty_object_when_a_connect_carries_none()
    {
        JsonElement? seenByPredicate = null;
        Io.Of((name, auth) =>
        {
            seenByPredicate = auth;
            return ValueTask.FromResult(name == "/dynamic");
        });
        var main = await ConnectAsync(); // "40": no payload
        var dynamic = await ConnectAsync("/dynamic");
        var handshake = Io.Sockets.Sockets[main.Id].Handshake;

        Assert.Equal(JsonValueKind.Object, handshake.Auth.ValueKind);
        Assert.Equal("{}", handshake.Auth.GetRawText());
        Assert.Empty(handshake.GetAuth<Dictionary<string, JsonElement>>()!);
        Assert.Null(Assert.IsType<Credentials>(handshake.GetAuth<Credentials>()).Token);
        Assert.Equal("{}", seenByPredicate?.GetRawText());
        Assert.Equal("{}", Io.Of("/dynamic").Sockets[dynamic.Id].Handshake.Auth.GetRawText());
    }

    [Fact]
    public async Task Server_disconnect_tells_the_client_and_runs_the_disconnect_handlers()
    {
        var reason = new TaskCompletionSource<string>();
        Io.OnConnection(socket => socket.OnDisconnect(r => reason.TrySetResult(r)));
        var client = await ConnectAsync();

        await Io.Sockets.Sockets[client.Id].DisconnectAsync();

        Assert.Equal("io server disconnect", await client.Disconnected.WaitAsync(TestClient.DefaultWait));
        Assert.Equal(DisconnectReason.ServerNamespaceDisconnect, await reason.Task);
    }

    [Fact]
    public async Task A_failing_handler_is_logged_and_the_socket_keeps_working()
    {
        Io.OnConnection(socket =>
        {
            socket.On("boom", _ => throw new InvalidOperationException("handler bug"));
            socket.On("ping", e => e.Ack("pong"));
        });
        var client = await ConnectAsync();

        await client.EmitAsync("boom");

        Assert.Equal("pong", (await client.EmitWithAckAsync("ping"))[0].GetString());
    }

    [Fact]
    public async Task Metrics_count_sockets_events_and_broadcast_deliveries()
    {
        var totals = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        var meterFactory = _node.Services.GetRequiredService<IMeterFactory>();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // Other tests run gateways in parallel: count this gateway's meter only (its scope is the gateway's factory).
            if (instrument.Meter.Name == "OrleansRooms.Gateway" && ReferenceEquals(instrument.Meter.Scope, meterFactory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => totals.AddOrUpdate(instrument.Name, value, (_, v) => v + value));
        listener.Start();
        Io.OnConnection(socket => socket.On("hello", e => e.Ack()));
        var first = await ConnectAsync();
        await ConnectAsync();

        await first.EmitWithAckAsync("hello");
        await Io.EmitAsync("all");

        Assert.Equal(2, totals["orleansrooms.socketio.sockets"]);
        Assert.Equal(1, totals["orleansrooms.socketio.events.received"]);
        Assert.Equal(1, totals["orleansrooms.socketio.broadcasts"]);
        Assert.Equal(2, totals["orleansrooms.socketio.broadcast.deliveries"]);
    }

    private async Task<TestClient> ConnectAsync(string @namespace = "/", object? auth = null)
    {
        var client = await TestClient.ConnectAsync(_node.Url, @namespace, auth);
        _clients.Add(client);
        return client;
    }

    private sealed record Credentials(string? Token);
}
