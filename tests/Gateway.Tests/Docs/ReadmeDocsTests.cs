using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansRooms.Specification;

namespace OrleansRooms.Tests.Docs;

/// <summary>The samples of <c>docs/README.md</c>.</summary>
public sealed class ReadmeDocsTests
{
    [Fact]
    public async Task Getting_io_from_MapSocketIO_and_from_dependency_injection()
    {
        var builder = DocsHost.NewBuilder();

        // docs/README.md: Getting io (the only test on Orleans' default silo port, 11111)
        builder.UseOrleans(silo => silo.UseLocalhostClustering().AddOrleansRooms());
        builder.Services.AddSocketIO();

        var app = builder.Build();

        app.MapSocketIO("/socket.io", io =>
        {
            io.OnConnection(socket =>
            {
                socket.On("ping", e => e.Ack("pong"));
            });
        });

        await using (app)
        {
            await app.StartAsync();
            await using var client = await TestClient.ConnectAsync(new Uri(app.Urls.First()));
            Assert.Equal("pong", (await client.EmitWithAckAsync("ping"))[0].GetString());

            // docs/README.md: Getting io (dependency injection)
            var io = app.Services.GetRequiredService<SocketIOServer>();
            await io.EmitAsync("hello");

            await client.ExpectEventAsync("hello");
            await client.DisposeAsync();
            await app.StopAsync();
        }
    }
}
