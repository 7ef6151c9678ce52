using System.Security.Claims;
using OrleansRooms.Conformance.Infrastructure;
using OrleansRooms.Grains.Recovery;

namespace OrleansRooms.Conformance;

/// <summary>
/// ASP.NET Core authentication and authorization as the official client meets them: the handshake's user on every
/// transport, namespaces that require a policy, users made from the <c>auth</c> payload, and rooms a guard refuses.
/// </summary>
public sealed class AuthorizationTests
{
    // How the client is told to connect: which transports, and where its token goes.
    private static string Options(string transport, string tokenIn, string token)
    {
        var transports = transport switch
        {
            "polling" => """["polling"]""",
            "websocket" => """["websocket"]""",
            _ => """["polling", "websocket"]""",
        };
        var credentials = tokenIn == "header"
            ? $$"""extraHeaders: { Authorization: "Bearer {{token}}" }"""
            : $$"""query: { access_token: "{{token}}" }""";
        return $$"""{ transports: {{transports}}, {{credentials}} }""";
    }

    private static void AnswerWhoAmI(Socket socket) =>
        socket.On("whoami", e => e.Ack(socket.Handshake.User.Identity?.Name, socket.Handshake.User.Identity?.IsAuthenticated ?? false));

    [Theory]
    [InlineData("polling", "header")]
    [InlineData("polling", "query")]
    [InlineData("websocket", "header")]
    [InlineData("websocket", "query")]
    [InlineData("upgrade", "header")]
    [InlineData("upgrade", "query")]
    public async Task Handshake_user_is_the_authenticated_user_on_every_transport(string transport, string tokenIn)
    {
        await using var gateway = await TestGateway.StartAsync(
            io =>
            {
                io.OnConnection(AnswerWhoAmI);
                io.Of("/admin").RequireAuthorization("AdminsOnly").OnConnection(AnswerWhoAmI);
            },
            services: TestTokens.AddTo);
        var token = TestTokens.For("ada", ["admin"]);

        await NodeScenario.RunAsync(gateway.Url, $$"""
            const options = {{Options(transport, tokenIn, token)}};
            const main = await connected(connect("/", { ...options, forceNew: false }));
            eq(await ack(main, "whoami"), ["ada", true], "user of the first request");
            if ("{{transport}}" === "upgrade" && main.io.engine.transport.name !== "websocket") {
              await once(main.io.engine, "upgrade", 10000);
            }
            eq(main.io.engine.transport.name, "{{transport}}" === "polling" ? "polling" : "websocket", "transport");
            eq(await ack(main, "whoami"), ["ada", true], "user after the transport is settled");

            // A namespace joined later over the same connection has the same user.
            const admin = connect("/admin", { ...options, forceNew: false });
            assert(admin.io === main.io, "one connection");
            await connected(admin);
            eq(await ack(admin, "whoami"), ["ada", true], "user of the admin namespace");
            """);
    }

    [Theory]
    [InlineData("polling")]
    [InlineData("websocket")]
    public async Task Namespace_that_requires_a_policy_refuses_others_with_connect_error(string transport)
    {
        var connections = 0;
        await using var gateway = await TestGateway.StartAsync(
            io =>
            {
                io.OnConnection(AnswerWhoAmI);
                io.Of("/admin").RequireAuthorization("AdminsOnly").Use(async (socket, next) =>
                {
                    Interlocked.Increment(ref connections);
                    await next();
                }).OnConnection(AnswerWhoAmI);
            },
            services: TestTokens.AddTo);

        await NodeScenario.RunAsync(gateway.Url, $$"""
            const transports = ["{{transport}}"];
            async function refusal(options) {
              const socket = connect("/admin", { transports, ...options });
              const [err] = await once(socket, "connect_error");
              eq(socket.connected, false, "connected");
              return [err.message, err.data];
            }

            eq(await refusal({}), ["Unauthorized", { status: 401 }], "no token");
            eq(await refusal({ query: { access_token: "not a token" } }), ["Unauthorized", { status: 401 }], "a malformed token");
            eq(await refusal({ extraHeaders: { Authorization: "Bearer {{TestTokens.Forged("mallory", ["admin"])}}" } }), ["Unauthorized", { status: 401 }], "a token signed with another key");
            eq(await refusal({ extraHeaders: { Authorization: "Bearer {{TestTokens.For("bob")}}" } }), ["Forbidden", { status: 403 }], "a user without the role");

            // The main namespace requires nothing; the server still serves after the refusals.
            const anonymous = await connected(connect("/", { transports }));
            eq(await ack(anonymous, "whoami"), [null, false], "anonymous user");
            const admin = await connected(connect("/admin", { transports, extraHeaders: { Authorization: "Bearer {{TestTokens.For("ada", ["admin"])}}" } }));
            eq(await ack(admin, "whoami"), ["ada", true], "admin");
            """);

        // Refused before the middleware: it ran for the admin only.
        Assert.Equal(1, Volatile.Read(ref connections));
    }

    [Fact]
    public async Task Namespace_authenticates_a_token_from_the_auth_payload()
    {
        await using var gateway = await TestGateway.StartAsync(
            io => io.Of("/admin")
                .Authenticate(handshake => TestTokens.ValidateAsync(handshake.GetAuth<TokenAuth>()?.Token))
                .RequireAuthorization("AdminsOnly")
                .OnConnection(AnswerWhoAmI),
            services: TestTokens.AddTo);

        await NodeScenario.RunAsync(gateway.Url, $$"""
            const admin = await connected(connect("/admin", { auth: { token: "{{TestTokens.For("ada", ["admin"])}}" } }));
            eq(await ack(admin, "whoami"), ["ada", true], "user from the auth payload");

            const forged = connect("/admin", { auth: { token: "{{TestTokens.Forged("mallory", ["admin"])}}" } });
            const [err] = await once(forged, "connect_error");
            eq([err.message, err.data], ["Unauthorized", { status: 401 }], "forged token");
            """);
    }

    [Fact]
    public async Task A_client_that_recovers_its_socket_is_authorized_again()
    {
        await using var gateway = await TestGateway.StartAsync(
            io => io.Of("/admin")
                .Authenticate(handshake => TestTokens.ValidateAsync(handshake.GetAuth<TokenAuth>()?.Token))
                .RequireAuthorization("AdminsOnly")
                .OnConnection(AnswerWhoAmI),
            options => options.ConnectionStateRecovery = new ConnectionStateRecoveryOptions(),
            services: TestTokens.AddTo);

        await NodeScenario.RunAsync(gateway.Url, $$"""
            const socket = connect("/admin", { auth: { token: "{{TestTokens.For("ada", ["admin"])}}" }, reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
            await connected(socket);
            eq(await ack(socket, "whoami"), ["ada", true], "first connection");
            assert(socket._pid, "a recoverable session");

            // Meanwhile the client's credentials went bad: its recovery, which skips the middleware, is refused all the same.
            socket.auth = { token: "{{TestTokens.Forged("ada", ["admin"])}}" };
            const disconnect = once(socket, "disconnect", 10000);
            socket.io.engine.close();
            await disconnect;
            const [err] = await once(socket, "connect_error", 15000);
            eq([err.message, err.data], ["Unauthorized", { status: 401 }], "recovery refused");
            eq(socket.connected, false, "connected");
            """, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Room_guard_keeps_a_socket_out_of_another_tenants_rooms()
    {
        await using var gateway = await TestGateway.StartAsync(
            io =>
            {
                var tenants = io.Of("/tenants");
                tenants.AuthorizeJoin((socket, room) => room.StartsWith($"tenant:{socket.Handshake.User.FindFirstValue("tenant")}:", StringComparison.Ordinal));
                tenants.OnConnection(socket =>
                {
                    socket.On("join", async e =>
                    {
                        try
                        {
                            await socket.JoinAsync(e.Get<string>(0)!);
                            e.Ack("joined", socket.Rooms.Order(StringComparer.Ordinal));
                        }
                        catch (RoomJoinDeniedException ex)
                        {
                            e.Ack(ex.Message, socket.Rooms.Order(StringComparer.Ordinal));
                        }
                    });

                    // Every socket of the namespace: the guard leaves out those it refuses, the others join.
                    socket.On("everyone join", async e =>
                    {
                        await tenants.SocketsJoinAsync(e.Get<string>(0)!);
                        e.Ack(tenants.Sockets.Values.ToDictionary(s => s.Handshake.User.Identity!.Name!, s => s.Rooms.Order(StringComparer.Ordinal).ToArray()));
                    });
                });
            },
            services: TestTokens.AddTo);

        await NodeScenario.RunAsync(gateway.Url, $$"""
            const ada = await connected(connect("/tenants", { extraHeaders: { Authorization: "Bearer {{TestTokens.For("ada", tenant: "a")}}" } }));
            const bob = await connected(connect("/tenants", { extraHeaders: { Authorization: "Bearer {{TestTokens.For("bob", tenant: "b")}}" } }));
            const [status, rooms] = await ack(ada, "join", "tenant:a:general");
            eq([status, rooms], ["joined", [ada.id, "tenant:a:general"].sort()], "own tenant's room");

            const [refused, unchanged] = await ack(ada, "join", "tenant:b:general");
            eq(refused, `Socket ${ada.id} may not join room 'tenant:b:general'.`, "another tenant's room");
            eq(unchanged, rooms, "rooms after the refusal");

            const [everyone] = await ack(bob, "everyone join", "tenant:b:general");
            eq(everyone.ada, rooms, "ada's rooms after SocketsJoinAsync");
            eq(everyone.bob, [bob.id, "tenant:b:general"].sort(), "bob's rooms after SocketsJoinAsync");
            """);
    }

    private sealed record TokenAuth(string? Token);
}
