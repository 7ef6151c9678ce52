using System.Collections.Concurrent;

namespace OrleansRooms.Specification;

/// <summary>
/// The Socket.IO rooms documentation, one test per documented behaviour. A deployment passes it by deriving a class
/// that creates its <see cref="IGatewayCluster"/>; clients are spread over the gateways (client i connects to gateway
/// i mod N) and the application acts through the first gateway's <c>io</c>, so a cluster must behave as one server.
/// </summary>
public abstract class RoomSemanticsSpecification : IAsyncLifetime
{
    private readonly List<TestClient> _clients = [];

    protected IGatewayCluster Cluster { get; private set; } = null!;

    /// <summary>The application's server object, on the first gateway.</summary>
    protected SocketIOServer Io => Cluster.Gateways[0].Io;

    protected abstract IGatewayCluster CreateCluster();

    public async Task InitializeAsync()
    {
        Cluster = CreateCluster();
        await Cluster.StartAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        await Cluster.DisposeAsync();
    }

    [Fact]
    public async Task Join_subscribes_the_socket_to_the_room()
    {
        var (member, memberSocket) = await ConnectAsync();
        var (other, _) = await ConnectAsync();

        await memberSocket.JoinAsync("some room");
        await Io.To("some room").EmitAsync("some event", 1);
        await Io.EmitAsync("marker");

        Assert.Equal(1, (await member.ExpectEventAsync("some event"))[0].GetInt32());
        await member.ExpectNothingBeforeAsync("marker");
        await other.ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task To_and_In_are_the_same()
    {
        var (member, memberSocket) = await ConnectAsync();
        await memberSocket.JoinAsync("some room");

        await Io.In("some room").EmitAsync("via in");
        await Io.To("some room").EmitAsync("via to");

        await member.ExpectEventAsync("via in");
        await member.ExpectEventAsync("via to");
    }

    [Fact]
    public async Task Emit_to_several_rooms_reaches_every_socket_in_at_least_one_of_them_once()
    {
        var (inOneAndTwo, a) = await ConnectAsync();
        var (inTwoAndThree, b) = await ConnectAsync();
        var (inThree, c) = await ConnectAsync();
        var (inNone, _) = await ConnectAsync();
        await a.JoinAsync(["room1", "room2"]);
        await b.JoinAsync(["room2", "room3"]);
        await c.JoinAsync("room3");

        await Io.To("room1").To("room2").To("room3").EmitAsync("some event");
        await Io.EmitAsync("marker");

        foreach (var member in new[] { inOneAndTwo, inTwoAndThree, inThree })
        {
            await member.ExpectEventAsync("some event");
            await member.ExpectNothingBeforeAsync("marker");
        }

        await inNone.ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task To_accepts_several_rooms_at_once()
    {
        var (first, a) = await ConnectAsync();
        var (second, b) = await ConnectAsync();
        await a.JoinAsync("room1");
        await b.JoinAsync("room2");

        await Io.To(["room1", "room2"]).EmitAsync("some event");

        await first.ExpectEventAsync("some event");
        await second.ExpectEventAsync("some event");
    }

    [Fact]
    public async Task Except_excludes_the_sockets_of_a_room()
    {
        var (excluded, a) = await ConnectAsync();
        var (included, _) = await ConnectAsync();
        await a.JoinAsync("some room");

        await Io.Except("some room").EmitAsync("some event");
        await Io.EmitAsync("marker");

        await included.ExpectEventAsync("some event");
        await excluded.ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task To_and_Except_chain_in_any_order()
    {
        var (inBoth, a) = await ConnectAsync();
        var (inFirstOnly, b) = await ConnectAsync();
        await a.JoinAsync(["room1", "room2"]);
        await b.JoinAsync("room1");

        await Io.Except("room2").To("room1").EmitAsync("some event");
        await Io.EmitAsync("marker");

        await inFirstOnly.ExpectEventAsync("some event");
        await inBoth.ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task Broadcast_operators_are_immutable_and_reusable()
    {
        var (first, a) = await ConnectAsync();
        var (second, b) = await ConnectAsync();
        await a.JoinAsync("room1");
        await b.JoinAsync("room2");

        var toRoom1 = Io.To("room1");
        _ = toRoom1.To("room2");
        await toRoom1.EmitAsync("some event");
        await Io.EmitAsync("marker");

        await first.ExpectEventAsync("some event");
        await second.ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task Socket_to_room_reaches_every_socket_in_the_room_but_the_sender()
    {
        var (sender, senderSocket) = await ConnectAsync();
        var (member, memberSocket) = await ConnectAsync();
        await senderSocket.JoinAsync("some room");
        await memberSocket.JoinAsync("some room");

        await senderSocket.To("some room").EmitAsync("some event");
        await Io.EmitAsync("marker");

        await member.ExpectEventAsync("some event");
        await sender.ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task Socket_broadcast_reaches_every_other_socket()
    {
        var (sender, senderSocket) = await ConnectAsync();
        var (first, _) = await ConnectAsync();
        var (second, _) = await ConnectAsync();

        await senderSocket.Broadcast.EmitAsync("some event");
        await Io.EmitAsync("marker");

        await first.ExpectEventAsync("some event");
        await second.ExpectEventAsync("some event");
        await sender.ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task Every_socket_is_in_the_room_named_by_its_id()
    {
        var (client, socket) = await ConnectAsync();

        Assert.Equal(client.Id, socket.Id);
        Assert.Contains(socket.Id, socket.Rooms);
        await Io.To(socket.Id).EmitAsync("private");
        await client.ExpectEventAsync("private");
    }

    [Fact]
    public async Task A_socket_can_message_another_by_its_id()
    {
        var (_, senderSocket) = await ConnectAsync();
        var (recipient, recipientSocket) = await ConnectAsync();
        var (bystander, _) = await ConnectAsync();

        await senderSocket.To(recipientSocket.Id).EmitAsync("my message", "hi");
        await Io.EmitAsync("marker");

        Assert.Equal("hi", (await recipient.ExpectEventAsync("my message"))[0].GetString());
        await bystander.ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task A_socket_that_leaves_the_room_named_by_its_id_no_longer_gets_messages_to_its_id()
    {
        var (client, socket) = await ConnectAsync();
        var adapter = Io.Sockets.Adapter;

        await socket.LeaveAsync(socket.Id);
        await Io.To(socket.Id).EmitAsync("private");
        await Io.EmitAsync("marker");

        await client.ExpectNothingBeforeAsync("marker");
        Assert.DoesNotContain(socket.Id, socket.Rooms);
        Assert.DoesNotContain(socket.Id, await adapter.GetSocketRoomsAsync(socket.Id));
        Assert.DoesNotContain(socket.Id, await adapter.GetRoomMembersAsync(socket.Id));

        await socket.JoinAsync(socket.Id);
        await Io.To(socket.Id).EmitAsync("private again");
        await client.ExpectEventAsync("private again");
        Assert.Contains(socket.Id, await adapter.GetSocketRoomsAsync(socket.Id));
    }

    [Fact]
    public async Task Socket_ids_are_random_and_unguessable()
    {
        var ids = new HashSet<string>();
        for (var i = 0; i < 6; i++)
        {
            var (_, socket) = await ConnectAsync();
            ids.Add(socket.Id);
            Assert.True(socket.Id.Length >= 20, $"id '{socket.Id}' is too short to be unguessable");
            Assert.Matches("^[A-Za-z0-9_-]+$", socket.Id);
        }

        Assert.Equal(6, ids.Count);
    }

    [Fact]
    public async Task Leave_unsubscribes_the_socket()
    {
        var (client, socket) = await ConnectAsync();
        await socket.JoinAsync(["room1", "room2"]);

        await socket.LeaveAsync("room1");
        await Io.To("room1").EmitAsync("left room");
        await Io.To("room2").EmitAsync("still in room");

        await client.ExpectNothingBeforeAsync("still in room");
        Assert.DoesNotContain("room1", socket.Rooms);
        Assert.Contains("room2", socket.Rooms);
    }

    [Fact]
    public async Task Disconnection_leaves_every_room_without_teardown_code()
    {
        var (leaving, leavingSocket) = await ConnectAsync();
        var (staying, stayingSocket) = await ConnectAsync();
        await leavingSocket.JoinAsync(["room1", "room2"]);
        await stayingSocket.JoinAsync("room2");
        var gone = Disconnected(leavingSocket);

        await leaving.CloseAsync();
        await gone.WaitAsync(TestClient.DefaultWait);

        Assert.Empty(leavingSocket.Rooms);
        var adapter = AdapterOf(leavingSocket);
        Assert.Empty(await adapter.GetRoomMembersAsync("room1"));
        Assert.Empty(await adapter.GetRoomMembersAsync(leavingSocket.Id));
        Assert.Empty(await adapter.GetSocketRoomsAsync(leavingSocket.Id));
        Assert.Equal([stayingSocket.Id], await adapter.GetRoomMembersAsync("room2"));
        Assert.DoesNotContain("room1", await adapter.GetRoomNamesAsync());
        await Io.To("room2").EmitAsync("after");
        await staying.ExpectEventAsync("after");
    }

    [Fact]
    public async Task Disconnecting_still_sees_the_rooms_and_disconnect_sees_none()
    {
        var (client, socket) = await ConnectAsync();
        await socket.JoinAsync("some room");
        var duringDisconnecting = new TaskCompletionSource<IReadOnlySet<string>>();
        var duringDisconnect = new TaskCompletionSource<IReadOnlySet<string>>();
        socket.OnDisconnecting(_ => duringDisconnecting.TrySetResult(socket.Rooms));
        socket.OnDisconnect(_ => duringDisconnect.TrySetResult(socket.Rooms));

        await client.CloseAsync();

        var before = await duringDisconnecting.Task.WaitAsync(TestClient.DefaultWait);
        Assert.Contains(socket.Id, before);
        Assert.Contains("some room", before);
        Assert.Empty(await duringDisconnect.Task.WaitAsync(TestClient.DefaultWait));
    }

    [Fact]
    public async Task Disconnect_reports_the_reason()
    {
        var (client, socket) = await ConnectAsync();
        var reason = new TaskCompletionSource<string>();
        socket.OnDisconnect(r => reason.TrySetResult(r));

        await client.DisconnectNamespaceAsync();

        Assert.Equal(DisconnectReason.ClientNamespaceDisconnect, await reason.Task.WaitAsync(TestClient.DefaultWait));
    }

    [Fact]
    public async Task The_adapter_exposes_rooms_and_sids_maps()
    {
        var (_, socket) = await ConnectAsync();
        await socket.JoinAsync("some room");
        var adapter = AdapterOf(socket);

        Assert.Equal([socket.Id], adapter.Rooms["some room"]);
        Assert.Equal([socket.Id], adapter.Rooms[socket.Id]);
        Assert.Equal(new HashSet<string> { socket.Id, "some room" }, adapter.Sids[socket.Id].ToHashSet());
    }

    [Fact]
    public async Task Cluster_wide_queries_see_every_socket_and_room()
    {
        var (_, a) = await ConnectAsync();
        var (_, b) = await ConnectAsync();
        await a.JoinAsync(["room1", "room2"]);
        await b.JoinAsync("room2");
        var adapter = Io.Sockets.Adapter;

        Assert.Equal(new HashSet<string> { a.Id, b.Id }, (await adapter.GetRoomMembersAsync("room2")).ToHashSet());
        Assert.Equal(new HashSet<string> { a.Id, "room1", "room2" }, (await adapter.GetSocketRoomsAsync(a.Id)).ToHashSet());
        Assert.Superset(new HashSet<string> { "room1", "room2", a.Id, b.Id }, (await adapter.GetRoomNamesAsync()).ToHashSet());
    }

    [Fact]
    public async Task The_adapter_maps_cannot_be_modified()
    {
        var (_, socket) = await ConnectAsync();
        await socket.JoinAsync("some room");
        var adapter = AdapterOf(socket);

        var rooms = Assert.IsAssignableFrom<IDictionary<string, IReadOnlySet<string>>>(adapter.Rooms);
        Assert.Throws<NotSupportedException>(() => rooms.Remove("some room"));
        var members = Assert.IsAssignableFrom<ICollection<string>>(adapter.Rooms["some room"]);
        Assert.Throws<NotSupportedException>(() => members.Clear());
        var sids = Assert.IsAssignableFrom<IDictionary<string, IReadOnlySet<string>>>(adapter.Sids);
        Assert.Throws<NotSupportedException>(() => sids.Clear());
        Assert.Contains(socket.Id, adapter.Rooms["some room"]);
    }

    [Fact]
    public async Task The_adapter_raises_room_events_including_for_the_own_id_room()
    {
        var events = new ConcurrentQueue<string>();
        var adapter = Io.Sockets.Adapter;
        adapter.CreateRoom += room => events.Enqueue($"create-room {room}");
        adapter.JoinRoom += (room, id) => events.Enqueue($"join-room {room} {id}");
        adapter.LeaveRoom += (room, id) => events.Enqueue($"leave-room {room} {id}");
        adapter.DeleteRoom += room => events.Enqueue($"delete-room {room}");

        var (client, socket) = await ConnectOnAsync(0);
        await socket.JoinAsync("some room");
        await socket.LeaveAsync("some room");
        var gone = Disconnected(socket);
        await client.CloseAsync();
        await gone.WaitAsync(TestClient.DefaultWait);

        var id = socket.Id;
        Assert.Equal(
            [
                $"create-room {id}", $"join-room {id} {id}",
                "create-room some room", $"join-room some room {id}",
                $"leave-room some room {id}", "delete-room some room",
                $"leave-room {id} {id}", $"delete-room {id}",
            ],
            events.ToArray());
    }

    [Fact]
    public async Task Namespaces_have_separate_rooms()
    {
        var (inMain, mainSocket) = await ConnectAsync();
        var (inChat, chatSocket) = await ConnectAsync("/chat");
        await mainSocket.JoinAsync("some room");
        await chatSocket.JoinAsync("some room");

        await Io.Of("/chat").To("some room").EmitAsync("chat event");
        await Io.To("some room").EmitAsync("main event");

        await inChat.ExpectEventAsync("chat event");
        await inMain.ExpectEventAsync("main event");
    }

    [Fact]
    public async Task FetchSockets_returns_the_targeted_sockets_with_their_details()
    {
        var (_, a) = await ConnectAsync();
        var (_, b) = await ConnectAsync();
        await a.JoinAsync("some room");
        a.Data["user"] = "alice";

        var all = await Io.FetchSocketsAsync();
        var inRoom = await Io.In("some room").FetchSocketsAsync();

        Assert.Equal(new HashSet<string> { a.Id, b.Id }, all.Select(s => s.Id).ToHashSet());
        var fetched = Assert.Single(inRoom);
        Assert.Equal(a.Id, fetched.Id);
        Assert.Contains("some room", fetched.Rooms);
        Assert.Equal("alice", fetched.Data["user"]?.ToString());
        Assert.False(string.IsNullOrEmpty(fetched.Handshake.Address));
    }

    [Fact]
    public async Task Fetched_sockets_can_be_emitted_to_joined_left_and_disconnected()
    {
        var (client, socket) = await ConnectAsync();
        var fetched = Assert.Single(await Io.FetchSocketsAsync());

        await fetched.JoinAsync("room1");
        await fetched.EmitAsync("direct", 42);
        await Io.To("room1").EmitAsync("to room1");
        Assert.Equal(42, (await client.ExpectEventAsync("direct"))[0].GetInt32());
        await client.ExpectEventAsync("to room1");

        await fetched.LeaveAsync("room1");
        Assert.DoesNotContain("room1", socket.Rooms);

        await fetched.DisconnectAsync();
        Assert.Equal("io server disconnect", await client.Disconnected.WaitAsync(TestClient.DefaultWait));
    }

    [Fact]
    public async Task SocketsJoin_and_SocketsLeave_apply_to_the_targeted_sockets()
    {
        var (first, a) = await ConnectAsync();
        var (second, b) = await ConnectAsync();
        await a.JoinAsync("room1");

        await Io.In("room1").SocketsJoinAsync("room2");
        Assert.Contains("room2", a.Rooms);
        Assert.DoesNotContain("room2", b.Rooms);

        await Io.SocketsJoinAsync("room3");
        Assert.Contains("room3", b.Rooms);

        await Io.In("room1").SocketsLeaveAsync("room3");
        Assert.DoesNotContain("room3", a.Rooms);
        Assert.Contains("room3", b.Rooms);
        await Io.To("room3").EmitAsync("to room3");
        await Io.EmitAsync("marker");
        await second.ExpectEventAsync("to room3");
        await first.ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task DisconnectSockets_disconnects_the_targeted_sockets()
    {
        var (leaving, a) = await ConnectAsync();
        var (staying, _) = await ConnectAsync();
        await a.JoinAsync("room1");

        await Io.In("room1").DisconnectSocketsAsync();

        Assert.Equal("io server disconnect", await leaving.Disconnected.WaitAsync(TestClient.DefaultWait));
        Assert.False(a.Connected);
        await Io.EmitAsync("still here");
        await staying.ExpectEventAsync("still here");
    }

    [Fact]
    public async Task DisconnectSockets_with_close_closes_the_connections()
    {
        var (client, _) = await ConnectAsync();

        await Io.DisconnectSocketsAsync(close: true);

        Assert.Equal("io server disconnect", await client.Disconnected.WaitAsync(TestClient.DefaultWait));
    }

    [Fact]
    public async Task Broadcast_acks_collect_every_answer()
    {
        var (first, _) = await ConnectAsync();
        var (second, _) = await ConnectAsync();
        first.AutoAcks["question"] = "one";
        second.AutoAcks["question"] = "two";

        var responses = await Io.Timeout(TimeSpan.FromSeconds(5)).EmitWithAckAsync("question");

        Assert.Equal(["one", "two"], responses.Select(r => r.Get<string>(0)).Order());
    }

    [Fact]
    public async Task Broadcast_acks_time_out_with_the_answers_received()
    {
        var (answering, _) = await ConnectAsync();
        var (silent, _) = await ConnectAsync();
        answering.AutoAcks["question"] = "yes";

        var error = await Assert.ThrowsAsync<BroadcastAckTimeoutException>(
            () => Io.Timeout(TimeSpan.FromMilliseconds(500)).EmitWithAckAsync("question").AsTask());

        Assert.Equal("yes", Assert.Single(error.Responses).Get<string>(0));
        await silent.ExpectEventAsync("question");
    }

    [Fact]
    public async Task Broadcast_acks_to_an_empty_room_complete_at_once()
    {
        await ConnectAsync();

        var responses = await Io.To("nobody").Timeout(TimeSpan.FromSeconds(5)).EmitWithAckAsync("question");

        Assert.Empty(responses);
    }

    [Fact]
    public async Task Volatile_broadcasts_reach_ready_sockets()
    {
        var (client, socket) = await ConnectAsync();
        await socket.JoinAsync("some room");

        await Io.Volatile.To("some room").EmitAsync("volatile event");

        await client.ExpectEventAsync("volatile event");
    }

    [Fact]
    public async Task Local_broadcasts_reach_the_sockets_of_this_node()
    {
        var (client, socket) = await ConnectOnAsync(0);
        await socket.JoinAsync("some room");

        await Io.Local.To("some room").EmitAsync("local event");

        await client.ExpectEventAsync("local event");
    }

    [Fact]
    public async Task Reserved_event_names_cannot_be_emitted()
    {
        var (_, socket) = await ConnectAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => Io.EmitAsync("disconnect").AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => socket.EmitAsync("connect").AsTask());
    }

    /// <summary>Connects the next client, spreading clients over the gateways, and returns it with its server-side socket.</summary>
    protected Task<(TestClient Client, Socket Socket)> ConnectAsync(string @namespace = "/") =>
        ConnectOnAsync(_clients.Count % Cluster.Gateways.Count, @namespace);

    protected async Task<(TestClient Client, Socket Socket)> ConnectOnAsync(int gateway, string @namespace = "/")
    {
        var node = Cluster.Gateways[gateway];
        node.Io.Of(@namespace);
        var client = await TestClient.ConnectAsync(node.Url, @namespace);
        _clients.Add(client);
        var socket = node.Io.Of(@namespace).Sockets[client.Id];
        return (client, socket);
    }

    private static Adapter AdapterOf(Socket socket) => socket.Namespace.Adapter;

    private static Task Disconnected(Socket socket)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        socket.OnDisconnect(_ => done.TrySetResult());
        return done.Task;
    }
}
