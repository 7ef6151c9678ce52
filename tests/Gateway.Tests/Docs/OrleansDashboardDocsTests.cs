using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansRooms.Specification;

namespace OrleansRooms.Tests.Docs;

/// <summary>The samples of <c>docs/orleans-dashboard.md</c>, in a host of its own with a real silo, over HTTP.</summary>
public sealed class OrleansDashboardDocsTests
{
    [Fact]
    public async Task A_policy_with_a_role_admits_the_operators_and_sends_the_others_to_sign_in()
    {
        var builder = DocsHost.NewBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Orleans:Dashboard:Enabled"] = "true",
            ["Orleans:Dashboard:Policy"] = "OrleansOperators",
        });
        builder.UseOrleans(silo => silo.UseLocalhostClustering(siloPort: TestSilo.FreePort(), gatewayPort: 0).AddOrleansRooms());
        builder.Services.AddSocketIO();

        // docs/orleans-dashboard.md: Who may see it (cookies)
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie();
        builder.Services.AddAuthorization(options =>
            options.AddPolicy("OrleansOperators", policy => policy.RequireAuthenticatedUser().RequireRole("orleans-operator")));

        // docs/orleans-dashboard.md: Turning it on (a host of your own)
        var app = builder.Build();
        app.MapSocketIO();
        app.MapOrleansRoomsDashboard();

        // Stands in for the organisation's sign-in: a user with the roles asked for.
        app.MapGet("/sign-in", async (HttpContext context, string? role) =>
        {
            var claims = new List<Claim> { new(ClaimTypes.Name, "someone") };
            if (role is not null)
            {
                claims.Add(new Claim(ClaimTypes.Role, role));
            }

            await context.SignInAsync(new ClaimsPrincipal(new ClaimsIdentity(claims, CookieAuthenticationDefaults.AuthenticationScheme)));
        });

        await using (app)
        {
            await app.StartAsync();
            var root = new Uri(app.Urls.First());
            using var anonymous = Browser(root);
            using var someone = Browser(root);
            using var operatorBrowser = Browser(root);
            Assert.Equal(HttpStatusCode.OK, (await someone.GetAsync("sign-in")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await operatorBrowser.GetAsync("sign-in?role=orleans-operator")).StatusCode);

            using var notSignedIn = await anonymous.GetAsync("orleans/");
            Assert.Equal(HttpStatusCode.Redirect, notSignedIn.StatusCode);
            Assert.Equal("/Account/Login", notSignedIn.Headers.Location?.AbsolutePath);

            using var withoutRole = await someone.GetAsync("orleans/DashboardCounters");
            Assert.Equal(HttpStatusCode.Redirect, withoutRole.StatusCode);
            Assert.Equal("/Account/AccessDenied", withoutRole.Headers.Location?.AbsolutePath);

            using var page = await operatorBrowser.GetAsync("orleans/");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("<title>Orleans Dashboard</title>", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            using var counters = await operatorBrowser.GetAsync("orleans/DashboardCounters");
            Assert.Equal(HttpStatusCode.OK, counters.StatusCode);
            Assert.Equal("application/json", counters.Content.Headers.ContentType?.MediaType);

            await app.StopAsync();
        }
    }

    /// <summary>A client that keeps its own cookies and shows redirects instead of following them.</summary>
    private static HttpClient Browser(Uri root) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = root, Timeout = TimeSpan.FromSeconds(30) };
}
