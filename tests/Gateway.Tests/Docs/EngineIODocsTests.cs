using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansRooms.Engine;

namespace OrleansRooms.Tests.Docs;

/// <summary>The sample of <c>docs/engine-io.md</c>, run and talked to over raw long-polling.</summary>
public sealed class EngineIODocsTests
{
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
