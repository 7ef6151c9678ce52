using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansRooms.Specification;

#pragma warning disable CA1873 // The samples log where the Socket.IO docs call console.log; an IsEnabled guard on each would hide the point.

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

    [Fact]
    public async Task Catch_all_listeners_are_put_first_and_removed()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        var logger = new RecordingLogger();

        // docs/README.md: Catch-all listeners
        io.OnConnection(socket =>
        {
            Action<SocketEvent> listener = e => logger.LogInformation("got {Event}", e.Name);
            socket.OnAny(listener);
            socket.PrependAny(e => logger.LogInformation("first of all: {Event}", e.Name));
            socket.OnAnyOutgoing((eventName, args) => logger.LogInformation("sent {Event}", eventName));

            socket.On("quiet", e =>
            {
                socket.OffAny(listener); // this one only
                socket.OffAnyOutgoing(); // every outgoing listener
            });
        });

        await using var client = await TestClient.ConnectAsync(node.Url);
        await client.EmitAsync("hello");
        await logger.ExpectAsync("first of all: hello");
        await logger.ExpectAsync("got hello");
        await io.EmitAsync("news");
        await logger.ExpectAsync("sent news");
        await client.ExpectEventAsync("news");

        await client.EmitAsync("quiet");
        await logger.ExpectAsync("first of all: quiet");
        await logger.ExpectAsync("got quiet");
        await client.EmitAsync("hello");
        await logger.ExpectAsync("first of all: hello");
        await io.EmitAsync("more news");
        await client.ExpectEventAsync("more news");
        await client.EmitAsync("hello");
        await logger.ExpectAsync("first of all: hello"); // neither "got" nor "sent" came in between
    }
}
