using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansRooms.Specification;

#pragma warning disable CA1873 // The samples log where the Socket.IO docs call console.log; an IsEnabled guard on each would hide the point.

namespace OrleansRooms.Tests.Docs;

/// <summary>
/// The C# samples of <c>docs/namespaces.md</c>, in the order of the Socket.IO "Namespaces" page: each test runs its
/// sample as written there (marked <c>// docs/namespaces.md: heading</c>) and checks what the page says it does.
/// </summary>
public sealed class NamespacesDocsTests
{
    [Fact]
    public async Task Each_namespace_has_its_own_event_handlers()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;

        // docs/namespaces.md: Introduction (event handlers)
        io.Of("/orders").OnConnection(socket =>
        {
            socket.On("order:list", e => e.Ack("orders"));
            socket.On("order:create", e => e.Ack("created"));
        });

        io.Of("/users").OnConnection(socket =>
        {
            socket.On("user:list", e => e.Ack("users"));
        });

        await using var orders = await TestClient.ConnectAsync(node.Url, "/orders");
        await using var users = await TestClient.ConnectAsync(node.Url, "/users");

        Assert.Equal("orders", (await orders.EmitWithAckAsync("order:list"))[0].GetString());
        Assert.Equal("created", (await orders.EmitWithAckAsync("order:create"))[0].GetString());
        Assert.Equal("users", (await users.EmitWithAckAsync("user:list"))[0].GetString());
    }

    [Fact]
    public async Task Each_namespace_has_its_own_rooms()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;

        // docs/namespaces.md: Introduction (rooms)
        var orderNamespace = io.Of("/orders");

        orderNamespace.OnConnection(async socket =>
        {
            await socket.JoinAsync("room1");
            await orderNamespace.To("room1").EmitAsync("hello");
        });

        var userNamespace = io.Of("/users");

        userNamespace.OnConnection(async socket =>
        {
            await socket.JoinAsync("room1"); // distinct from the room in the "orders" namespace
            await userNamespace.To("room1").EmitAsync("hola");
        });

        await using var orders = await TestClient.ConnectAsync(node.Url, "/orders");
        await orders.ExpectEventAsync("hello");
        await using var users = await TestClient.ConnectAsync(node.Url, "/users");
        await users.ExpectEventAsync("hola");

        await orderNamespace.EmitAsync("marker");
        await orders.ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task Each_namespace_has_its_own_middleware()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        var logger = new RecordingLogger();

        // docs/namespaces.md: Introduction (middlewares)
        var orderNamespace = io.Of("/orders");

        orderNamespace.Use(async (socket, next) =>
        {
            // ensure the socket has access to the "orders" namespace, and then
            logger.LogInformation("orders middleware");
            await next();
        });

        var userNamespace = io.Of("/users");

        userNamespace.Use(async (socket, next) =>
        {
            // ensure the socket has access to the "users" namespace, and then
            logger.LogInformation("users middleware");
            await next();
        });

        await using var orders = await TestClient.ConnectAsync(node.Url, "/orders");
        await logger.ExpectAsync("orders middleware");
        await using var users = await TestClient.ConnectAsync(node.Url, "/users");
        await logger.ExpectAsync("users middleware");
    }

    [Fact]
    public async Task Admin_namespace_lets_in_authorized_users_only()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        static bool IsAdmin(Handshake handshake) => handshake.GetAuth<AdminAuth>()?.Token == "admin-token";

        // docs/namespaces.md: Introduction (admin namespace)
        var adminNamespace = io.Of("/admin");

        adminNamespace.Use(async (socket, next) =>
        {
            // ensure the user has sufficient rights
            if (!IsAdmin(socket.Handshake))
            {
                throw new ConnectionRejectedException("not authorized", new { code = 403 });
            }

            await next();
        });

        adminNamespace.OnConnection(socket =>
        {
            socket.On("delete user", e =>
            {
                // ...
                e.Ack(true);
            });
        });

        await using var admin = await TestClient.ConnectAsync(node.Url, "/admin", new AdminAuth("admin-token"));
        Assert.True((await admin.EmitWithAckAsync("delete user", "bob"))[0].GetBoolean());

        var refused = await Assert.ThrowsAsync<ConnectErrorException>(() => TestClient.ConnectAsync(node.Url, "/admin", new AdminAuth("guess")));
        Assert.Contains("""{"message":"not authorized","data":{"code":403}}""", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Workspaces_are_one_dynamic_namespace_per_tenant()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;

        // docs/namespaces.md: Introduction (one namespace per tenant)
        var workspaces = io.Of(new Regex(@"^/\w+$"));

        workspaces.OnConnection(async socket =>
        {
            var workspace = socket.Namespace;

            await workspace.EmitAsync("hello");
        });

        await using var acme = await TestClient.ConnectAsync(node.Url, "/acme");
        await acme.ExpectEventAsync("hello");
        await using var globex = await TestClient.ConnectAsync(node.Url, "/globex");
        await globex.ExpectEventAsync("hello");

        await io.Of("/acme").EmitAsync("marker");
        await acme.ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task Io_methods_act_on_the_main_namespace()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        await using var client = await TestClient.ConnectAsync(node.Url);

        // docs/namespaces.md: Main namespace
        io.OnConnection(socket => { });
        io.Use((socket, next) => next());
        await io.EmitAsync("hello");
        // are actually equivalent to
        io.Of("/").OnConnection(socket => { });
        io.Of("/").Use((socket, next) => next());
        await io.Of("/").EmitAsync("hello");

        await client.ExpectEventAsync("hello");
        await client.ExpectEventAsync("hello");
        await using var second = await TestClient.ConnectAsync(node.Url);
    }

    [Fact]
    public async Task Io_Sockets_is_the_main_namespace()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;

        // docs/namespaces.md: Main namespace (io.Sockets)
        var same = io.Sockets == io.Of("/"); // true

        Assert.True(same);
        Assert.Equal("/", io.Sockets.Name);
    }

    [Fact]
    public async Task Custom_namespace_has_its_own_connection_handlers_and_broadcasts()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        var logger = new RecordingLogger();
        io.Of("/my-namespace");
        await using var early = await TestClient.ConnectAsync(node.Url, "/my-namespace");
        await using var main = await TestClient.ConnectAsync(node.Url);

        // docs/namespaces.md: Custom namespaces
        var nsp = io.Of("/my-namespace");

        nsp.OnConnection(socket =>
        {
            logger.LogInformation("someone connected");
        });

        await nsp.EmitAsync("hi", "everyone!");

        Assert.Equal("everyone!", (await early.ExpectEventAsync("hi"))[0].GetString());
        await using var late = await TestClient.ConnectAsync(node.Url, "/my-namespace");
        await logger.ExpectAsync("someone connected");
        await io.EmitAsync("marker");
        await main.ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task Client_initialization_multiplexes_namespaces_over_one_connection()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        io.Of("/orders");
        io.Of("/users");

        // docs/namespaces.md: Client initialization (what io(), io("/orders") and io("/users") send on one WebSocket)
        using var ws = new ClientWebSocket();
        await ws.ConnectAsync(new UriBuilder(node.Url) { Scheme = "ws", Path = "/socket.io/", Query = "EIO=4&transport=websocket" }.Uri, CancellationToken.None);
        Assert.StartsWith("0{", await ReceiveTextAsync(ws), StringComparison.Ordinal);
        foreach (var connect in new[] { "40", "40/orders,", "40/users," })
        {
            await ws.SendAsync(Encoding.UTF8.GetBytes(connect), WebSocketMessageType.Text, true, CancellationToken.None);
        }

        var connected = new[] { await ReceiveTextAsync(ws), await ReceiveTextAsync(ws), await ReceiveTextAsync(ws) };
        Assert.StartsWith("40{\"sid\":", connected[0], StringComparison.Ordinal);
        Assert.StartsWith("40/orders,{\"sid\":", connected[1], StringComparison.Ordinal);
        Assert.StartsWith("40/users,{\"sid\":", connected[2], StringComparison.Ordinal);
        Assert.Single(io.Sockets.Sockets);
        Assert.Single(io.Of("/orders").Sockets);
        Assert.Single(io.Of("/users").Sockets);
        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }

    [Fact]
    public async Task Dynamic_namespace_by_regular_expression()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;

        // docs/namespaces.md: Dynamic namespaces (regular expression)
        io.Of(new Regex(@"^/dynamic-\d+$"));

        await using var client = await TestClient.ConnectAsync(node.Url, "/dynamic-42");
        var refused = await Assert.ThrowsAsync<ConnectErrorException>(() => TestClient.ConnectAsync(node.Url, "/static-42"));
        Assert.Contains("Invalid namespace", refused.Message, StringComparison.Ordinal);
        Assert.Single(io.Of("/dynamic-42").Sockets);
    }

    [Fact]
    public async Task Dynamic_namespace_by_function()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;

        // docs/namespaces.md: Dynamic namespaces (function)
        io.Of((name, auth) =>
        {
            // name is the requested namespace, for example "/workspace-123"
            // auth is the authentication payload sent by the client
            return ValueTask.FromResult(true); // or false, when the creation is denied
        });

        await using var client = await TestClient.ConnectAsync(node.Url, "/workspace-123");
        Assert.Single(io.Of("/workspace-123").Sockets);
    }

    [Fact]
    public async Task Connection_handler_gets_the_child_namespace()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        var logger = new RecordingLogger();

        // docs/namespaces.md: Dynamic namespaces (the new namespace)
        io.Of(new Regex(@"^/dynamic-\d+$")).OnConnection(socket =>
        {
            var @namespace = socket.Namespace; // the child namespace, e.g. "/dynamic-101"
            logger.LogInformation("connected to {Namespace}", @namespace.Name);
        });

        await using var client = await TestClient.ConnectAsync(node.Url, "/dynamic-101");
        await logger.ExpectAsync("connected to /dynamic-101");
    }

    [Fact]
    public async Task Existing_namespaces_have_priority_over_dynamic_ones()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        var logger = new RecordingLogger();

        // docs/namespaces.md: Priority
        // register "dynamic-101" namespace
        io.Of("/dynamic-101");

        io.Of(new Regex(@"^/dynamic-\d+$")).OnConnection(socket =>
        {
            // will not be called for a connection on the "dynamic-101" namespace
            logger.LogInformation("connected to {Namespace}", socket.Namespace.Name);
        });

        await using var existing = await TestClient.ConnectAsync(node.Url, "/dynamic-101");
        await using var dynamic = await TestClient.ConnectAsync(node.Url, "/dynamic-102");
        await logger.ExpectAsync("connected to /dynamic-102");
    }

    [Fact]
    public async Task Any_name_creates_a_namespace_with_a_permissive_pattern()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;

        // docs/namespaces.md: Security considerations (permissive pattern)
        io.Of(new Regex(@"^/\w+$"));

        await using var client = await TestClient.ConnectAsync(node.Url, "/anything");
        Assert.Single(io.Of("/anything").Sockets);
    }

    [Fact]
    public async Task Function_based_dynamic_namespace_authorizes_the_creation()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        static ValueTask<bool> IsMemberAsync(JsonElement? auth, string workspace) =>
            ValueTask.FromResult(auth is { ValueKind: JsonValueKind.Object } a
                && a.TryGetProperty("workspace", out var w)
                && "/" + w.GetString() == workspace);

        // docs/namespaces.md: Security considerations (function)
        io.Of(async (name, auth) =>
        {
            // validate both the namespace name and the auth payload
            return name.StartsWith("/workspace-", StringComparison.Ordinal) && await IsMemberAsync(auth, name);
        });

        await using var member = await TestClient.ConnectAsync(node.Url, "/workspace-1", new { workspace = "workspace-1" });
        var stranger = await Assert.ThrowsAsync<ConnectErrorException>(() => TestClient.ConnectAsync(node.Url, "/workspace-2", new { workspace = "workspace-1" }));
        Assert.Contains("Invalid namespace", stranger.Message, StringComparison.Ordinal);
        var other = await Assert.ThrowsAsync<ConnectErrorException>(() => TestClient.ConnectAsync(node.Url, "/admin", new { workspace = "admin" }));
        Assert.Contains("Invalid namespace", other.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parent_namespace_middleware_and_broadcast_apply_to_every_child()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        var logger = new RecordingLogger();

        // docs/namespaces.md: Parent namespace (middlewares)
        var parentNamespace = io.Of(new Regex(@"^/dynamic-\d+$"));

        parentNamespace.Use(async (socket, next) =>
        {
            logger.LogInformation("middleware for {Namespace}", socket.Namespace.Name);
            await next();
        });

        await using var one = await TestClient.ConnectAsync(node.Url, "/dynamic-1");
        await logger.ExpectAsync("middleware for /dynamic-1");
        await using var two = await TestClient.ConnectAsync(node.Url, "/dynamic-2");
        await logger.ExpectAsync("middleware for /dynamic-2");
        await using var main = await TestClient.ConnectAsync(node.Url);

        // docs/namespaces.md: Parent namespace (broadcast)
        await parentNamespace.EmitAsync("hello"); // will be sent to users in /dynamic-1, /dynamic-2, ...

        await one.ExpectEventAsync("hello");
        await two.ExpectEventAsync("hello");
        await io.EmitAsync("marker");
        await main.ExpectNothingBeforeAsync("marker");
    }

    [Fact]
    public async Task An_empty_child_namespace_is_removed_and_made_again()
    {
        var builder = DocsHost.NewBuilder();
        builder.UseTestSilo();

        // docs/namespaces.md: Cleanup of empty child namespaces
        builder.Services.AddSocketIO(options => options.CleanupEmptyChildNamespaces = true);

        await using var node = await DocsHost.StartAsync(builder, app => app.MapSocketIO());
        var io = node.Io;
        var left = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        io.Of(new Regex(@"^/dynamic-\d+$")).OnConnection(socket => socket.OnDisconnect(_ => left.TrySetResult()));

        Namespace first;
        await using (var client = await TestClient.ConnectAsync(node.Url, "/dynamic-1"))
        {
            first = io.Of("/dynamic-1");
            Assert.Single(first.Sockets);
            await client.DisconnectNamespaceAsync();
            await left.Task.WaitAsync(TestClient.DefaultWait);
        }

        await using var again = await TestClient.ConnectAsync(node.Url, "/dynamic-1");
        var second = io.Of("/dynamic-1");
        Assert.NotSame(first, second);
        Assert.Empty(first.Sockets);
        Assert.Equal(again.Id, Assert.Single(second.Sockets).Key);
    }

    private static async Task<string> ReceiveTextAsync(ClientWebSocket ws)
    {
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TestClient.DefaultWait);
        var result = await ws.ReceiveAsync(buffer, timeout.Token);
        Assert.True(result.EndOfMessage);
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }

    private sealed record AdminAuth(string Token);
}
