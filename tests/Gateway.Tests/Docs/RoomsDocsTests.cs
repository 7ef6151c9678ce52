using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OrleansRooms.Specification;

#pragma warning disable CA1873 // The samples log where the Socket.IO docs call console.log; an IsEnabled guard on each would hide the point.

namespace OrleansRooms.Tests.Docs;

/// <summary>
/// The C# samples of <c>docs/rooms.md</c>, in the order of the Socket.IO "Rooms" page: each test runs its sample as
/// written there (marked <c>// docs/rooms.md: heading</c>) and checks what the page says it does.
/// </summary>
public sealed class RoomsDocsTests
{
    [Fact]
    public async Task Join_subscribes_the_socket_to_a_room()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;

        // docs/rooms.md: Joining and leaving
        io.OnConnection(async socket =>
        {
            await socket.JoinAsync("some room");
        });

        SignalWhenConnected(io.Sockets);
        await using var client = await ConnectedAsync(node);
        Assert.Contains("some room", io.Sockets.Sockets[client.Id].Rooms);
        Assert.Contains(client.Id, io.Sockets.Adapter.Rooms["some room"]);
    }

    [Fact]
    public async Task To_or_In_emits_to_the_sockets_of_a_room()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        await using var member = await TestClient.ConnectAsync(node.Url);
        await using var other = await TestClient.ConnectAsync(node.Url);
        await io.Sockets.Sockets[member.Id].JoinAsync("some room");

        // docs/rooms.md: Joining and leaving (to / in)
        await io.To("some room").EmitAsync("some event");
        // or
        await io.In("some room").EmitAsync("some event");

        await io.EmitAsync("marker");
        await member.ExpectEventAsync("some event");
        await member.ExpectEventAsync("some event");
        await member.ExpectNothingBeforeAsync("marker");
        await other.ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task Except_emits_to_every_socket_but_those_of_a_room()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        await using var excluded = await TestClient.ConnectAsync(node.Url);
        await using var included = await TestClient.ConnectAsync(node.Url);
        await io.Sockets.Sockets[excluded.Id].JoinAsync("some room");

        // docs/rooms.md: Joining and leaving (except)
        await io.Except("some room").EmitAsync("some event");

        await io.EmitAsync("marker");
        await included.ExpectEventAsync("some event");
        await excluded.ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task Emit_to_several_rooms_reaches_each_member_once()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        await using var inAllThree = await TestClient.ConnectAsync(node.Url);
        await using var inRoom3 = await TestClient.ConnectAsync(node.Url);
        await using var inNone = await TestClient.ConnectAsync(node.Url);
        await io.Sockets.Sockets[inAllThree.Id].JoinAsync(["room1", "room2", "room3"]);
        await io.Sockets.Sockets[inRoom3.Id].JoinAsync("room3");

        // docs/rooms.md: Joining and leaving (several rooms)
        await io.To("room1").To("room2").To("room3").EmitAsync("some event");

        await io.EmitAsync("marker");
        await inAllThree.ExpectEventAsync("some event");
        await inAllThree.ExpectNothingBeforeAsync("marker");
        await inRoom3.ExpectEventAsync("some event");
        await inRoom3.ExpectNothingBeforeAsync("marker");
        await inNone.ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task Socket_To_broadcasts_to_the_room_excluding_the_sender()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        io.OnConnection(socket => socket.JoinAsync("some room").AsTask());

        // docs/rooms.md: Joining and leaving (from a socket)
        io.OnConnection(async socket =>
        {
            await socket.To("some room").EmitAsync("some event");
        });

        SignalWhenConnected(io.Sockets);
        await using var first = await ConnectedAsync(node);
        await using var sender = await ConnectedAsync(node);

        await io.EmitAsync("marker");
        await first.ExpectEventAsync("some event");
        await first.ExpectNothingBeforeAsync("marker");
        await sender.ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task Leave_unsubscribes_the_socket_from_a_room()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        var left = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        io.Sockets.Adapter.LeaveRoom += (room, _) =>
        {
            if (room == "some room")
            {
                left.TrySetResult();
            }
        };
        io.OnConnection(async socket =>
        {
            await socket.JoinAsync("some room");
            socket.On("leave", async e =>
            {
                // docs/rooms.md: Joining and leaving (leave)
                await socket.LeaveAsync("some room");
            });
        });

        SignalWhenConnected(io.Sockets);
        await using var client = await ConnectedAsync(node);
        await client.EmitAsync("leave");
        await left.Task.WaitAsync(TestClient.DefaultWait);

        await io.To("some room").EmitAsync("some event");
        await io.EmitAsync("marker");
        await client.ExpectNothingBeforeAsync("marker");
        Assert.DoesNotContain("some room", io.Sockets.Adapter.Rooms.Keys);
    }

    [Fact]
    public async Task Say_to_someone_uses_the_room_of_the_socket_id()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;

        // docs/rooms.md: Default room
        io.OnConnection(socket =>
        {
            socket.On("say to someone", async e =>
            {
                var id = e.Get<string>(0)!;
                var msg = e.Get<string>(1);
                await socket.To(id).EmitAsync("my message", msg);
            });
        });

        await using var alice = await TestClient.ConnectAsync(node.Url);
        await using var bob = await TestClient.ConnectAsync(node.Url);
        await using var carol = await TestClient.ConnectAsync(node.Url);

        await alice.EmitAsync("say to someone", bob.Id, "hello bob");

        Assert.Equal("hello bob", (await bob.ExpectEventAsync("my message"))[0].GetString());
        await io.EmitAsync("marker");
        await bob.ExpectNothingBeforeAsync("marker");
        await alice.ExpectNothingBeforeAsync("marker");
        await carol.ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task User_room_reaches_each_device_of_the_user()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;

        // docs/rooms.md: Sample use cases (each device / tab of a user)
        static string ComputeUserIdFromHeaders(IHeaderDictionary headers)
        {
            // to be implemented; here, a header set by an authenticating proxy
            return headers["X-User-Id"].ToString();
        }

        io.OnConnection(async socket =>
        {
            var userId = ComputeUserIdFromHeaders(socket.Handshake.Headers);

            await socket.JoinAsync(userId);

            // and then later
            await io.To(userId).EmitAsync("hi");
        });

        await using var phone = await TestClient.ConnectAsync(node.Url, headers: User("alice"));
        await phone.ExpectEventAsync("hi");
        await using var laptop = await TestClient.ConnectAsync(node.Url, headers: User("alice"));
        await laptop.ExpectEventAsync("hi");
        await phone.ExpectEventAsync("hi");
        await using var bob = await TestClient.ConnectAsync(node.Url, headers: User("bob"));
        await bob.ExpectEventAsync("hi");

        await io.EmitAsync("marker");
        await phone.ExpectNothingBeforeAsync("marker");
        await laptop.ExpectNothingBeforeAsync("marker");
        await bob.ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task Project_rooms_notify_the_sockets_of_a_project()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        static Task<Project[]> FetchProjectsAsync(Socket socket) =>
            Task.FromResult(socket.Handshake.GetAuth<ProjectsAuth>()?.Projects ?? []);

        // docs/rooms.md: Sample use cases (a given entity)
        io.OnConnection(async socket =>
        {
            var projects = await FetchProjectsAsync(socket);

            await socket.JoinAsync(projects.Select(project => "project:" + project.Id));

            // and then later
            await io.To("project:4321").EmitAsync("project updated");
        });

        SignalWhenConnected(io.Sockets);
        await using var both = await TestClient.ConnectAsync(node.Url, auth: new ProjectsAuth(new[] { new Project("4321"), new Project("1") }));
        await both.ExpectEventAsync("project updated");
        await both.ExpectEventAsync("connected");
        await using var other = await ConnectedAsync(node, auth: new ProjectsAuth(new[] { new Project("1") }));
        await both.ExpectEventAsync("project updated");
        await using var same = await TestClient.ConnectAsync(node.Url, auth: new ProjectsAuth(new[] { new Project("4321") }));
        await same.ExpectEventAsync("project updated");
        await same.ExpectEventAsync("connected");
        await both.ExpectEventAsync("project updated");

        Assert.Equal("project:1,project:4321", string.Join(",", io.Sockets.Adapter.Rooms.Keys.Where(r => r.StartsWith("project:", StringComparison.Ordinal)).Order(StringComparer.Ordinal)));
        await io.EmitAsync("marker");
        await other.ExpectNothingBeforeAsync("marker");
        await both.ExpectNothingBeforeAsync("marker");
        await same.ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task Disconnecting_sees_the_rooms_and_disconnect_sees_none()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        var logger = new RecordingLogger();

        // docs/rooms.md: Disconnection
        io.OnConnection(socket =>
        {
            socket.OnDisconnecting(reason =>
            {
                logger.LogInformation("Rooms: {Rooms}", socket.Rooms); // the set contains at least the socket id
            });

            socket.OnDisconnect(reason =>
            {
                logger.LogInformation("Rooms left: {Count}", socket.Rooms.Count); // 0
            });
        });

        var client = await TestClient.ConnectAsync(node.Url);
        var id = client.Id;
        await client.DisposeAsync();

        await logger.ExpectAsync($"Rooms: {id}");
        await logger.ExpectAsync("Rooms left: 0");
    }

    [Fact]
    public async Task Asynchronous_disconnecting_handler_is_awaited_before_the_rooms_are_left()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        var saving = new TaskCompletionSource<IReadOnlySet<string>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var saved = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task SaveRoomsAsync(string id, IReadOnlySet<string> rooms)
        {
            saving.TrySetResult(rooms);
            await saved.Task;
        }

        io.OnConnection(socket => socket.JoinAsync("chat").AsTask());

        // docs/rooms.md: Disconnection (asynchronous handler)
        io.OnConnection(socket =>
        {
            socket.OnDisconnecting(async reason =>
            {
                await SaveRoomsAsync(socket.Id, socket.Rooms); // the socket stays in its rooms meanwhile
                await socket.To("chat").EmitAsync("user left", socket.Id);
            });
        });

        SignalWhenConnected(io.Sockets);
        await using var stays = await ConnectedAsync(node);
        var leaves = await ConnectedAsync(node);
        var id = leaves.Id;
        await leaves.DisposeAsync();

        Assert.True((await saving.Task.WaitAsync(TestClient.DefaultWait)).SetEquals([id, "chat"]));
        Assert.Contains(id, io.Sockets.Adapter.Rooms["chat"]);
        saved.SetResult();
        Assert.Equal(id, (await stays.ExpectEventAsync("user left"))[0].GetString());
    }

    [Fact]
    public async Task Adapter_rooms_and_sids_are_read_only_snapshots_per_namespace()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        io.Of("/my-namespace");
        await using var main = await TestClient.ConnectAsync(node.Url);
        await using var custom = await TestClient.ConnectAsync(node.Url, "/my-namespace");
        await io.Sockets.Sockets[main.Id].JoinAsync("the-room");

        // docs/rooms.md: Implementation details
        // main namespace
        var rooms = io.Of("/").Adapter.Rooms;
        var sids = io.Of("/").Adapter.Sids;

        // custom namespace
        var customRooms = io.Of("/my-namespace").Adapter.Rooms;
        var customSids = io.Of("/my-namespace").Adapter.Sids;

        Assert.True(rooms["the-room"].SetEquals([main.Id]));
        Assert.True(sids[main.Id].SetEquals(["the-room", main.Id]));
        Assert.DoesNotContain("the-room", customRooms.Keys);
        Assert.True(customSids[custom.Id].SetEquals([custom.Id]));

        await io.Sockets.Sockets[main.Id].LeaveAsync("the-room");
        Assert.Contains("the-room", rooms.Keys);
        Assert.DoesNotContain("the-room", io.Of("/").Adapter.Rooms.Keys);
    }

    [Fact]
    public async Task Adapter_raises_create_room_and_join_room()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        var logger = new RecordingLogger();

        // docs/rooms.md: Room events
        io.Of("/").Adapter.CreateRoom += room =>
        {
            logger.LogInformation("room {Room} was created", room);
        };

        io.Of("/").Adapter.JoinRoom += (room, id) =>
        {
            logger.LogInformation("socket {Id} has joined room {Room}", id, room);
        };

        await using var client = await TestClient.ConnectAsync(node.Url);
        await logger.ExpectAsync($"room {client.Id} was created");
        await logger.ExpectAsync($"socket {client.Id} has joined room {client.Id}");

        await io.Sockets.Sockets[client.Id].JoinAsync("the-room");
        await logger.ExpectAsync("room the-room was created");
        await logger.ExpectAsync($"socket {client.Id} has joined room the-room");
    }

    /// <summary>Adds a last connection handler that emits <c>connected</c>: once received, the earlier handlers have run.</summary>
    internal static void SignalWhenConnected(Namespace nsp) => nsp.OnConnection(async socket => await socket.EmitAsync("connected"));

    /// <summary>Connects and waits until the connection handlers registered before <see cref="SignalWhenConnected"/> have run.</summary>
    internal static async Task<TestClient> ConnectedAsync(GatewayNode node, string @namespace = "/", object? auth = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        var client = await TestClient.ConnectAsync(node.Url, @namespace, auth, headers);
        await client.ExpectEventAsync("connected");
        return client;
    }

    private static Dictionary<string, string> User(string id) => new() { ["X-User-Id"] = id };

    private sealed record Project(string Id);

    private sealed record ProjectsAuth(Project[] Projects);
}
