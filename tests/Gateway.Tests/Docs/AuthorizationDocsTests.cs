using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OrleansRooms.Specification;

namespace OrleansRooms.Tests.Docs;

/// <summary>
/// The samples of <c>docs/authorization.md</c>: JWT bearer tokens in a header or the <c>auth</c> payload, a namespace
/// that requires a policy, a room guard; clients with tokens signed here (and one signed with a key the host does not trust).
/// </summary>
public sealed class AuthorizationDocsTests
{
    private static readonly SymmetricSecurityKey SigningKey = new(Encoding.UTF8.GetBytes("the docs sample's key, 256 bits or more for HS256"));
    private static readonly SymmetricSecurityKey UntrustedKey = new(Encoding.UTF8.GetBytes("a key the host does not trust, also 256 bits long"));

    private static string Token(string name, string? role = null, string? tenant = null, SymmetricSecurityKey? key = null)
    {
        var claims = new Dictionary<string, object> { ["name"] = name };
        if (role is not null)
        {
            claims["role"] = role;
        }

        if (tenant is not null)
        {
            claims["tenant"] = tenant;
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "https://auth.example.com",
            Audience = "chat",
            Claims = claims,
            Expires = DateTime.UtcNow.AddHours(1),
            SigningCredentials = new SigningCredentials(key ?? SigningKey, SecurityAlgorithms.HmacSha256),
        });
    }

    private static Dictionary<string, string> Bearer(string token) => new() { ["Authorization"] = "Bearer " + token };

    private static WebApplicationBuilder NewBuilderWithJwtBearer()
    {
        var builder = DocsHost.NewBuilder();
        builder.UseTestSilo();
        builder.Services.AddSocketIO();
        var signingKey = SigningKey;

        // docs/authorization.md: JWT bearer tokens
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(options =>
            {
                options.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = "https://auth.example.com",
                    ValidAudience = "chat",
                    IssuerSigningKey = signingKey,
                    NameClaimType = "name",
                };

                // Browsers cannot send headers with a WebSocket: they send the token in the query string.
                options.Events = new JwtBearerEvents
                {
                    OnMessageReceived = context =>
                    {
                        var accessToken = context.Request.Query["access_token"];
                        if (!string.IsNullOrEmpty(accessToken) && context.HttpContext.Request.Path.StartsWithSegments("/socket.io"))
                        {
                            context.Token = accessToken;
                        }

                        return Task.CompletedTask;
                    },
                };
            });

        builder.Services.AddAuthorization(options => options.AddPolicy("AdminsOnly", policy => policy.RequireRole("admin")));
        return builder;
    }

    [Fact]
    public async Task A_namespace_requires_a_policy_of_the_bearer_tokens_user()
    {
        await using var node = await DocsHost.StartAsync(NewBuilderWithJwtBearer(), app =>
        {
            // docs/authorization.md: Requiring authorization on a namespace
            app.MapSocketIO("/socket.io", io =>
            {
                io.OnConnection(socket =>
                {
                    socket.On("whoami", e => e.Ack(socket.Handshake.User.Identity?.Name));
                });

                io.Of("/admin")
                    .RequireAuthorization("AdminsOnly")
                    .OnConnection(socket =>
                    {
                        socket.On("ban", e => e.Ack($"{e.Get<string>(0)} banned by {socket.Handshake.User.Identity?.Name}"));
                    });
            });
        });

        await using (var anonymous = await TestClient.ConnectAsync(node.Url))
        {
            Assert.Equal(System.Text.Json.JsonValueKind.Null, (await anonymous.EmitWithAckAsync("whoami"))[0].ValueKind);
        }

        await using (var bob = await TestClient.ConnectAsync(node.Url, headers: Bearer(Token("bob"))))
        {
            Assert.Equal("bob", (await bob.EmitWithAckAsync("whoami"))[0].GetString());
        }

        var unauthenticated = await Assert.ThrowsAsync<ConnectErrorException>(() => TestClient.ConnectAsync(node.Url, "/admin"));
        Assert.Equal("""{"message":"Unauthorized","data":{"status":401}}""", unauthenticated.Payload.GetRawText());
        var untrusted = await Assert.ThrowsAsync<ConnectErrorException>(() => TestClient.ConnectAsync(node.Url, "/admin", headers: Bearer(Token("eve", "admin", key: UntrustedKey))));
        Assert.Equal("""{"message":"Unauthorized","data":{"status":401}}""", untrusted.Payload.GetRawText());
        var forbidden = await Assert.ThrowsAsync<ConnectErrorException>(() => TestClient.ConnectAsync(node.Url, "/admin", headers: Bearer(Token("bob"))));
        Assert.Equal("""{"message":"Forbidden","data":{"status":403}}""", forbidden.Payload.GetRawText());

        await using var ada = await TestClient.ConnectAsync(node.Url, "/admin", headers: Bearer(Token("ada", "admin")));
        Assert.Equal("mallory banned by ada", (await ada.EmitWithAckAsync("ban", "mallory"))[0].GetString());
    }

    [Fact]
    public async Task A_browser_sends_the_token_in_the_query_string()
    {
        await using var node = await DocsHost.StartAsync(NewBuilderWithJwtBearer(), app => app.MapSocketIO("/socket.io", io => { }));

        // The handshake request of a polling client, as a browser sends it: the token in access_token.
        using var http = new HttpClient();
        var open = await http.GetStringAsync(new Uri(node.Url, $"socket.io/?EIO=4&transport=polling&access_token={Token("ada", "admin")}"));
        var sid = System.Text.Json.JsonDocument.Parse(open[1..]).RootElement.GetProperty("sid").GetString();
        var users = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        node.Io.Of("/admin").RequireAuthorization("AdminsOnly").OnConnection(socket => users.TrySetResult(socket.Handshake.User.Identity?.Name));

        using var connect = await http.PostAsync(new Uri(node.Url, $"socket.io/?EIO=4&transport=polling&sid={sid}"), new StringContent("40/admin,"));
        connect.EnsureSuccessStatusCode();
        Assert.Equal("ada", await users.Task.WaitAsync(TestClient.DefaultWait));
    }

    [Fact]
    public async Task A_namespace_authenticates_the_token_of_the_auth_payload()
    {
        await using var node = await DocsHost.StartAsync(NewBuilderWithJwtBearer(), app =>
        {
            // docs/authorization.md: Tokens in the auth payload
            var jwt = app.Services.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(JwtBearerDefaults.AuthenticationScheme);

            app.MapSocketIO("/socket.io", io =>
            {
                io.Of("/admin")
                    .Authenticate(handshake => ValidateAuthTokenAsync(handshake, jwt))
                    .RequireAuthorization("AdminsOnly")
                    .OnConnection(socket =>
                    {
                        socket.On("whoami", e => e.Ack(socket.Handshake.User.Identity?.Name));
                    });
            });
        });

        await using var ada = await TestClient.ConnectAsync(node.Url, "/admin", new { token = Token("ada", "admin") });
        Assert.Equal("ada", (await ada.EmitWithAckAsync("whoami"))[0].GetString());
        var untrusted = await Assert.ThrowsAsync<ConnectErrorException>(() => TestClient.ConnectAsync(node.Url, "/admin", new { token = Token("eve", "admin", key: UntrustedKey) }));
        Assert.Equal("""{"message":"Unauthorized","data":{"status":401}}""", untrusted.Payload.GetRawText());
        var none = await Assert.ThrowsAsync<ConnectErrorException>(() => TestClient.ConnectAsync(node.Url, "/admin"));
        Assert.Equal("""{"message":"Unauthorized","data":{"status":401}}""", none.Payload.GetRawText());
        var forbidden = await Assert.ThrowsAsync<ConnectErrorException>(() => TestClient.ConnectAsync(node.Url, "/admin", new { token = Token("bob") }));
        Assert.Equal("""{"message":"Forbidden","data":{"status":403}}""", forbidden.Payload.GetRawText());
    }

    [Fact]
    public async Task A_room_guard_keeps_users_in_their_tenants_rooms()
    {
        await using var node = await DocsHost.StartAsync(NewBuilderWithJwtBearer(), app =>
        {
            app.MapSocketIO("/socket.io", io =>
            {
                // docs/authorization.md: Guarding rooms
                var projects = io.Of("/projects");

                // A room "tenant:{id}:{name}" is for the users of that tenant only.
                projects.AuthorizeJoin((socket, room) =>
                    socket.Handshake.User.FindFirstValue("tenant") is { } tenant
                    && room.StartsWith($"tenant:{tenant}:", StringComparison.Ordinal));

                projects.OnConnection(socket =>
                {
                    socket.On("open", async e =>
                    {
                        try
                        {
                            await socket.JoinAsync(e.Get<string>(0)!);
                            e.Ack("ok");
                        }
                        catch (RoomJoinDeniedException ex)
                        {
                            e.Ack(ex.Message);
                        }
                    });
                });
            });
        });

        await using var ada = await TestClient.ConnectAsync(node.Url, "/projects", headers: Bearer(Token("ada", tenant: "acme")));
        Assert.Equal("ok", (await ada.EmitWithAckAsync("open", "tenant:acme:roadmap"))[0].GetString());
        Assert.Equal($"Socket {ada.Id} may not join room 'tenant:globex:roadmap'.", (await ada.EmitWithAckAsync("open", "tenant:globex:roadmap"))[0].GetString());
        await using var anonymous = await TestClient.ConnectAsync(node.Url, "/projects");
        Assert.Equal($"Socket {anonymous.Id} may not join room 'tenant::roadmap'.", (await anonymous.EmitWithAckAsync("open", "tenant::roadmap"))[0].GetString());

        var projects = node.Io.Of("/projects");
        Assert.Equal(["tenant:acme:roadmap"], projects.Adapter.Rooms.Keys.Where(room => room.StartsWith("tenant:", StringComparison.Ordinal)));
    }

    // docs/authorization.md: Tokens in the auth payload (the helper)
    private static async ValueTask<ClaimsPrincipal?> ValidateAuthTokenAsync(Handshake handshake, JwtBearerOptions jwt)
    {
        var token = handshake.GetAuth<TokenAuth>()?.Token;
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        foreach (var handler in jwt.TokenHandlers)
        {
            var result = await handler.ValidateTokenAsync(token, jwt.TokenValidationParameters);
            if (result.IsValid)
            {
                return new ClaimsPrincipal(result.ClaimsIdentity);
            }
        }

        return null;
    }

    private sealed record TokenAuth(string? Token);
}
