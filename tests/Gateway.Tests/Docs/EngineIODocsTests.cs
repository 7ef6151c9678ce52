using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansRooms.Engine;
using OrleansRooms.Specification;

#pragma warning disable CA1873 // The samples log where the Socket.IO docs call console.log; an IsEnabled guard on each would hide the point.

namespace OrleansRooms.Tests.Docs;

/// <summary>The sample of <c>docs/engine-io.md</c>, run and talked to over raw long-polling.</summary>
public sealed class EngineIODocsTests
{
    [Fact]
    public async Task Engine_events_report_refused_requests_and_add_response_headers()
    {
        var logger = new RecordingLogger();
        var builder = DocsHost.NewBuilder();
        builder.UseTestSilo();
        builder.Services.AddSocketIO();
        await using var node = await DocsHost.StartAsync(builder, app =>
        {
            // docs/engine-io.md: Engine events
            app.MapSocketIO("/socket.io", io =>
            {
                io.Engine.OnConnectionError(error => logger.LogInformation(
                    "{Method} {Query} refused: {Code} {Message}", error.Request.Method, error.Request.QueryString, error.Code, error.Message));

                io.Engine.OnInitialHeaders((headers, request) => headers.SetCookie = "gateway=g1; Path=/; HttpOnly; SameSite=Lax");
                io.Engine.OnHeaders((headers, request) => headers["X-Gateway"] = "g1");
            });
        });

        using var http = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = node.Url, Timeout = TestClient.DefaultWait };
        using (var refused = await http.GetAsync("/socket.io/?EIO=4&transport=carrier-pigeon"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.False(refused.Headers.Contains("X-Gateway"));
        }

        await logger.ExpectAsync("GET ?EIO=4&transport=carrier-pigeon refused: 0 Transport unknown");
        using var handshake = await http.GetAsync("/socket.io/?EIO=4&transport=polling");
        var open = await handshake.Content.ReadAsStringAsync();
        using var post = await http.PostAsync($"/socket.io/?EIO=4&transport=polling&sid={open.Substring(9, 20)}", new StringContent("40"));

        Assert.Equal("gateway=g1; Path=/; HttpOnly; SameSite=Lax", Assert.Single(handshake.Headers.GetValues("Set-Cookie")));
        Assert.Equal("g1", Assert.Single(handshake.Headers.GetValues("X-Gateway")));
        Assert.False(post.Headers.Contains("Set-Cookie"));
        Assert.Equal("g1", Assert.Single(post.Headers.GetValues("X-Gateway")));
    }

    [Fact]
    public async Task The_echo_sample_answers_text_and_binary()
    {
        var builder = DocsHost.NewBuilder();

        // docs/engine-io.md
        builder.Services.AddEngineIO(options => options.PingInterval = TimeSpan.FromSeconds(10));

        var app = builder.Build();
        app.MapEngineIO("/engine.io", engine =>
        {
            engine.OnConnection(connection =>
            {
                connection.OnMessage(message =>
                {
                    if (message.IsBinary)
                    {
                        connection.Send(message.Data);
                    }
                    else
                    {
                        connection.Send("echo: " + message.Text);
                    }
                });
                connection.OnClose(reason => Console.WriteLine($"{connection.Id} closed: {reason}"));
            });
        });

        await app.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(5) };
            var open = await http.GetStringAsync("/engine.io/?EIO=4&transport=polling");
            Assert.Contains("\"pingInterval\":10000", open, StringComparison.Ordinal);
            var sid = open.Substring("0{\"sid\":\"".Length, 20);
            var polling = $"/engine.io/?EIO=4&transport=polling&sid={sid}";

            using (var post = await http.PostAsync(polling, new StringContent("4hello\u001ebAQI=")))
            {
                Assert.Equal("ok", await post.Content.ReadAsStringAsync());
            }

            Assert.Equal("4echo: hello\u001ebAQI=", await http.GetStringAsync(polling));
            Assert.Equal(1, app.Services.GetRequiredService<EngineIOServer>().ConnectionCount);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
