using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansRooms.Specification;

namespace OrleansRooms.Tests.Docs;

/// <summary>The samples of <c>docs/older-clients.md</c>, run and talked to as a socket.io-client 2.x would (EIO=3 over long-polling).</summary>
public sealed class OlderClientsDocsTests
{
    [Fact]
    public async Task The_sample_lets_a_v3_client_in_connected_to_the_main_namespace()
    {
        var builder = DocsHost.NewBuilder();
        builder.UseTestSilo();

        // docs/older-clients.md
        builder.Services.AddSocketIO(options => options.AllowEIO3 = true);

        var connected = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var node = await DocsHost.StartAsync(builder, app => app.MapSocketIO("/socket.io", io =>
            io.OnConnection(socket => connected.TrySetResult(socket.Namespace.Name))));
        using var http = new HttpClient { BaseAddress = node.Url, Timeout = TimeSpan.FromSeconds(10) };

        var open = await http.GetStringAsync("socket.io/?EIO=3&transport=polling&b64=1");
        Assert.DoesNotContain("maxPayload", open, StringComparison.Ordinal);
        var start = open.IndexOf("{\"sid\":\"", StringComparison.Ordinal) + "{\"sid\":\"".Length;
        var sid = open[start..open.IndexOf('"', start)];

        // The client sends no CONNECT for "/": the server connects it, and says so with a CONNECT without a sid.
        Assert.Equal("/", await connected.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("2:40", await http.GetStringAsync($"socket.io/?EIO=3&transport=polling&sid={sid}"));
    }

    [Fact]
    public async Task Off_by_default_a_v3_client_is_refused_with_unsupported_protocol_version()
    {
        var builder = DocsHost.NewBuilder();
        builder.UseTestSilo();
        builder.Services.AddSocketIO();
        Assert.False(new SocketIOOptions().AllowEIO3);

        await using var node = await DocsHost.StartAsync(builder, app => app.MapSocketIO("/socket.io", _ => { }));
        using var http = new HttpClient { BaseAddress = node.Url, Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync("socket.io/?EIO=3&transport=polling&b64=1");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("{\"code\":5,\"message\":\"Unsupported protocol version\"}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public void The_option_binds_from_the_SocketIO_section()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.UseTestSilo();
        builder.Configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes("""{ "SocketIO": { "AllowEIO3": true } }""")));
        builder.Services.AddSocketIO();
        using var app = builder.Build();

        Assert.True(app.Services.GetRequiredService<IOptions<SocketIOOptions>>().Value.AllowEIO3);
    }
}
