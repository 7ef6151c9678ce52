using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansRooms.Specification;

namespace OrleansRooms.Tests.SocketIO;

/// <summary>
/// A namespace's authentication, authorization requirements and room guards, beyond what the official client shows
/// (tests/Conformance.Tests/AuthorizationTests.cs): dynamic namespaces, policy objects, what a failure does.
/// </summary>
public sealed class NamespaceAuthorizationTests
{
    private static readonly Dictionary<string, string> Ada = new() { [UserHeaderHandler.Header] = "ada;admin" };
    private static readonly Dictionary<string, string> Bob = new() { [UserHeaderHandler.Header] = "bob" };

    private static void AddUserHeaderAuthentication(IServiceCollection services)
    {
        services.AddAuthentication(UserHeaderHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, UserHeaderHandler>(UserHeaderHandler.SchemeName, null);
        services.AddAuthorization(options => options.AddPolicy("AdminsOnly", policy => policy.RequireRole("admin")));
    }

    [Fact]
    public async Task A_dynamic_parents_requirements_apply_to_each_child()
    {
        await using var node = await GatewayNode.StartAsync(AddUserHeaderAuthentication);
        node.Io.Of(new Regex("^/tenant-[a-z]+$")).RequireAuthorization().OnConnection(_ => { });

        await using var ada = await TestClient.ConnectAsync(node.Url, "/tenant-a", headers: Ada);
        var refused = await Assert.ThrowsAsync<ConnectErrorException>(() => TestClient.ConnectAsync(node.Url, "/tenant-b"));
        Assert.Equal("""{"message":"Unauthorized","data":{"status":401}}""", refused.Payload.GetRawText());
    }

    [Fact]
    public async Task A_policy_object_sees_the_socket_as_its_resource()
    {
        await using var node = await GatewayNode.StartAsync(AddUserHeaderAuthentication);
        var ownWorkspaceOnly = new AuthorizationPolicyBuilder()
            .RequireAuthenticatedUser()
            .RequireAssertion(context => context.Resource is Socket socket && socket.Handshake.Auth.TryGetProperty("workspace", out var workspace) && workspace.GetString() == context.User.Identity?.Name)
            .Build();
        node.Io.Of("/workspaces").RequireAuthorization(ownWorkspaceOnly).OnConnection(_ => { });

        await using var ada = await TestClient.ConnectAsync(node.Url, "/workspaces", new { workspace = "ada" }, Ada);
        var refused = await Assert.ThrowsAsync<ConnectErrorException>(() => TestClient.ConnectAsync(node.Url, "/workspaces", new { workspace = "ada" }, Bob));
        Assert.Equal("""{"message":"Forbidden","data":{"status":403}}""", refused.Payload.GetRawText());
    }

    [Fact]
    public async Task A_refusal_is_logged_and_the_server_keeps_serving()
    {
        var logs = new LogRecorder();
        await using var node = await GatewayNode.StartAsync(services =>
        {
            AddUserHeaderAuthentication(services);
            logs.AddTo(services);
        });
        node.Io.Of("/admin").RequireAuthorization("AdminsOnly").OnConnection(socket => socket.On("ping", e => e.Ack("pong")));

        await Assert.ThrowsAsync<ConnectErrorException>(() => TestClient.ConnectAsync(node.Url, "/admin", headers: Bob));
        var entry = await logs.WaitForAsync(e => e.Message.Contains("was refused namespace /admin", StringComparison.Ordinal)).WaitAsync(TestClient.DefaultWait);
        Assert.Equal(LogLevel.Information, entry.Level);
        Assert.Contains("forbidden", entry.Message, StringComparison.Ordinal);

        await using var ada = await TestClient.ConnectAsync(node.Url, "/admin", headers: Ada);
        Assert.Equal("pong", (await ada.EmitWithAckAsync("ping"))[0].GetString());
    }

    [Fact]
    public async Task An_authenticator_that_fails_refuses_with_a_generic_error_and_is_logged()
    {
        var logs = new LogRecorder();
        await using var node = await GatewayNode.StartAsync(logs.AddTo);
        node.Io.Of("/broken").Authenticate(_ => throw new InvalidOperationException("no key")).OnConnection(_ => { });

        var refused = await Assert.ThrowsAsync<ConnectErrorException>(() => TestClient.ConnectAsync(node.Url, "/broken"));
        Assert.Equal("""{"message":"Internal server error"}""", refused.Payload.GetRawText());
        var entry = await logs.WaitForAsync(e => e.Exception is InvalidOperationException { Message: "no key" }).WaitAsync(TestClient.DefaultWait);
        Assert.Equal(LogLevel.Error, entry.Level);
    }

    [Fact]
    public async Task RequireAuthorization_without_the_authorization_services_says_what_is_missing()
    {
        await using var node = await GatewayNode.StartAsync();

        var error = Assert.Throws<InvalidOperationException>(() => node.Io.Of("/admin").RequireAuthorization("AdminsOnly"));
        Assert.Contains("AddAuthorization()", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_join_guard_that_fails_fails_the_join_and_nothing_joins()
    {
        await using var node = await GatewayNode.StartAsync();
        var joined = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var nsp = node.Io.Of("/rooms");
        nsp.AuthorizeJoin((_, room) => room == "broken" ? throw new InvalidOperationException("guard failed") : true);
        nsp.OnConnection(async socket =>
        {
            try
            {
                await socket.JoinAsync(["open", "broken"]);
                joined.TrySetResult(null);
            }
            catch (Exception ex)
            {
                joined.TrySetResult(socket.Rooms.Count == 1 ? ex : new InvalidOperationException("joined " + string.Join(",", socket.Rooms)));
            }
        });

        await using var client = await TestClient.ConnectAsync(node.Url, "/rooms");
        var failure = await joined.Task.WaitAsync(TestClient.DefaultWait);
        Assert.Equal("guard failed", Assert.IsType<InvalidOperationException>(failure).Message);
    }

    /// <summary>Authenticates a request by its <c>X-User</c> header: <c>name;role,role</c>.</summary>
    private sealed class UserHeaderHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "UserHeader";
        public const string Header = "X-User";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (Request.Headers[Header].ToString() is not { Length: > 0 } value)
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var parts = value.Split(';');
            var claims = new List<Claim> { new(ClaimTypes.Name, parts[0]) };
            if (parts.Length > 1)
            {
                claims.AddRange(parts[1].Split(',').Select(role => new Claim(ClaimTypes.Role, role)));
            }

            var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
        }
    }
}
