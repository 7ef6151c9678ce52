using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using OrleansRooms.Specification;

namespace OrleansRooms.Tests.Docs;

/// <summary>The host a page's sample runs in: a web application on a free loopback port, as the page builds it.</summary>
internal static class DocsHost
{
    /// <summary>A builder that listens on a free loopback port and logs nothing; the sample adds the rest.</summary>
    public static WebApplicationBuilder NewBuilder()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        return builder;
    }

    /// <summary>Builds and starts the application as <paramref name="configure"/> sets it up; stopped, then disposed, with the node.</summary>
    public static async Task<GatewayNode> StartAsync(WebApplicationBuilder builder, Action<WebApplication> configure)
    {
        var app = builder.Build();
        configure(app);
        await app.StartAsync();
        return new GatewayNode(app.Services, new Uri(app.Urls.First() + "/"), async () =>
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await app.StopAsync(timeout.Token);
            await app.DisposeAsync();
        });
    }
}
