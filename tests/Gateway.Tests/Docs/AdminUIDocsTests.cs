using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansRooms.Admin;
using OrleansRooms.Specification;

namespace OrleansRooms.Tests.Docs;

/// <summary>The samples of <c>docs/admin-ui.md</c>, on a real gateway with real clients of the admin namespace.</summary>
public sealed class AdminUIDocsTests
{
    [Fact]
    public async Task Basic_auth_with_a_bcrypt_hash_lets_the_operator_in_and_refuses_a_wrong_password()
    {
        var builder = DocsHost.NewBuilder();
        builder.UseTestSilo();

        // docs/admin-ui.md: Enabling it
        builder.Services.AddSocketIO();
        builder.Services.AddSocketIOAdminUI(options =>
        {
            options.Auth = new AdminUIAuthOptions
            {
                Type = AdminUIAuthType.Basic,
                Username = "admin",
                Password = "$2b$10$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZOS", // bcrypt of "changeit"
            };
        });

        await using var gateway = await DocsHost.StartAsync(builder, app => app.MapSocketIO());

        await using var admin = await TestClient.ConnectAsync(gateway.Url, "/admin", new { username = "admin", password = "changeit" });
        Assert.NotNull(admin.Id);
        var refused = await Assert.ThrowsAsync<ConnectErrorException>(() => TestClient.ConnectAsync(gateway.Url, "/admin", new { username = "admin", password = "wrong" }));
        Assert.Contains("invalid credentials", refused.Message, StringComparison.Ordinal);
    }
}
