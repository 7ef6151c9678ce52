using OrleansRooms.Conformance.Infrastructure;

namespace OrleansRooms.Conformance;

/// <summary>Namespaces, multiplexing and connection middleware, as the official client sees them.</summary>
public sealed class NamespaceTests
{
    [Fact]
    public async Task Connects_to_a_custom_namespace_only()
    {
        var mainConnections = 0;
        await using var gateway = await TestGateway.StartAsync(io =>
        {
            io.OnConnection(_ => Interlocked.Increment(ref mainConnections));
            io.Of("/admin").OnConnection(socket => socket.On("whoami", e => e.Ack(socket.Namespace.Name, socket.Id)));
        });

        await NodeScenario.RunAsync(gateway.Url, """
            const admin = await connected(connect("/admin"));
            eq(await ack(admin, "whoami"), ["/admin", admin.id], "namespace and id");
            """);

        // Since Socket.IO v3, connecting to a namespace does not connect to the main one.
        Assert.Equal(0, Volatile.Read(ref mainConnections));
    }

    [Fact]
    public async Task Multiplexes_namespaces_over_one_connection_and_disconnects_them_separately()
    {
        var chatDisconnect = Signal.Create<string>();
        await using var gateway = await TestGateway.StartAsync(io =>
        {
            io.OnConnection(socket => socket.On("hello", e => e.Ack("hello from /")));
            io.Of("/chat").OnConnection(socket =>
            {
                socket.On("hello", e => e.Ack("hello from /chat"));
                socket.OnDisconnect(async reason =>
                {
                    chatDisconnect.TrySetResult(reason);
                    await io.EmitAsync("chat-left", reason);
                });
            });
        });

        await NodeScenario.RunAsync(gateway.Url, """
            const main = connect("/", { forceNew: false });
            const chat = connect("/chat", { forceNew: false });
            assert(main.io === chat.io, "both namespaces share one Manager, so one connection");
            await Promise.all([connected(main), connected(chat)]);
            eq(await ack(main, "hello"), ["hello from /"], "main namespace");
            eq(await ack(chat, "hello"), ["hello from /chat"], "chat namespace");

            const left = once(main, "chat-left");
            chat.disconnect();
            eq(await left, ["client namespace disconnect"], "server-side reason");
            eq(chat.connected, false, "chat connected");
            eq(main.connected, true, "main connected");
            eq(main.io.engine.readyState, "open", "the shared connection");
            eq(await ack(main, "hello"), ["hello from /"], "main namespace after /chat left");
            """);

        Assert.Equal("client namespace disconnect", await chatDisconnect.Within());
    }

    [Fact]
    public async Task Refuses_an_unknown_namespace()
    {
        await using var gateway = await TestGateway.StartAsync(io => io.OnConnection(_ => { }));

        await NodeScenario.RunAsync(gateway.Url, """
            const socket = connect("/nope");
            const [err] = await once(socket, "connect_error");
            eq(err.message, "Invalid namespace", "message");
            eq(socket.connected, false, "connected");
            """);
    }

    [Fact]
    public async Task Middleware_reads_the_auth_payload_and_refusal_arrives_as_connect_error()
    {
        await using var gateway = await TestGateway.StartAsync(io =>
        {
            io.Use(async (socket, next) =>
            {
                var credentials = socket.Handshake.GetAuth<Credentials>();
                if (credentials?.Token != "s3cret")
                {
                    throw new ConnectionRejectedException("not authorized", new { code = 4001, reason = "bad token" });
                }

                socket.Data["user"] = credentials.User;
                await next();
            });
            io.OnConnection(async socket => await socket.EmitAsync("welcome", socket.Data["user"]));
        });

        await NodeScenario.RunAsync(gateway.Url, """
            const allowed = connect("/", { auth: { token: "s3cret", user: "ada" } });
            const welcome = once(allowed, "welcome");
            await connected(allowed);
            eq(await welcome, ["ada"], "user read from auth");

            const refused = connect("/", { auth: { token: "wrong" } });
            const [err] = await once(refused, "connect_error");
            eq(err.message, "not authorized", "message");
            eq(err.data, { code: 4001, reason: "bad token" }, "data");
            eq(refused.connected, false, "connected");
            """);
    }

    [Fact]
    public async Task Auth_is_an_empty_object_when_the_client_sends_none()
    {
        await using var gateway = await TestGateway.StartAsync(io => io.OnConnection(async socket =>
            await socket.EmitAsync("auth", socket.Handshake.Auth, socket.Handshake.GetAuth<Credentials>() is { Token: null })));

        await NodeScenario.RunAsync(gateway.Url, """
            const socket = connect("/");
            eq(await once(socket, "auth"), [{}, true], "handshake.auth and GetAuth<T>() of a client without auth");
            """);
    }

    [Fact]
    public async Task An_empty_child_namespace_is_removed_and_made_again_with_CleanupEmptyChildNamespaces()
    {
        var children = await ConnectToAChildTwiceAsync(cleanup: true);

        Assert.Equal(4, children.Length);
        Assert.NotSame(children[0], children[1]); // the first child left with its last socket
        Assert.Same(children[1], children[2]); // a child with a socket stays
        Assert.Same(children[2], children[3]);
    }

    [Fact]
    public async Task An_empty_child_namespace_stays_by_default()
    {
        var children = await ConnectToAChildTwiceAsync(cleanup: false);

        Assert.Equal(4, children.Length);
        Assert.All(children, child => Assert.Same(children[0], child));
    }

    /// <summary>
    /// A client connects to /dynamic-1 and leaves; two more connect, one leaves, and a fourth connects. The parent's
    /// broadcasts reach the children made again. Returns the namespace each of the four was in.
    /// </summary>
    private static async Task<Namespace[]> ConnectToAChildTwiceAsync(bool cleanup)
    {
        var children = new System.Collections.Concurrent.ConcurrentQueue<Namespace>();
        await using var gateway = await TestGateway.StartAsync(
            io =>
            {
                var parent = io.Of(new System.Text.RegularExpressions.Regex(@"^/dynamic-\d+$"));
                parent.OnConnection(socket =>
                {
                    children.Enqueue(socket.Namespace);
                    socket.On("shout", async e =>
                    {
                        await parent.EmitAsync("hello", socket.Id);
                        e.Ack();
                    });
                    socket.OnDisconnect(async _ => await io.EmitAsync("left", socket.Namespace.Name));
                });
            },
            options => options.CleanupEmptyChildNamespaces = cleanup);

        await NodeScenario.RunAsync(gateway.Url, """
            const main = await connected(connect("/"));
            const first = await connected(connect("/dynamic-1"));
            let left = once(main, "left");
            first.disconnect();
            eq(await left, ["/dynamic-1"], "first left");

            const second = await connected(connect("/dynamic-1"));
            const third = await connected(connect("/dynamic-1"));
            const hello = once(third, "hello");
            await ack(second, "shout");
            eq(await hello, [second.id], "the parent's broadcast reaches the child made again");
            left = once(main, "left");
            second.disconnect();
            await left;
            await connected(connect("/dynamic-1"));
            """);

        return [.. children];
    }

    private sealed record Credentials(string? Token, string? User);
}
