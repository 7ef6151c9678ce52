using System.IO.Compression;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansRooms.Engine;
using OrleansRooms.Specification;
using OrleansRooms.Tests.Engine;

namespace OrleansRooms.Tests.Docs;

/// <summary>The samples of <c>docs/compression.md</c>, run against raw WebSockets that offer deflate.</summary>
public sealed class CompressionDocsTests
{
    [Fact]
    public void Defaults_are_those_of_the_table()
    {
        var options = new PerMessageDeflateOptions();

        Assert.Null(new SocketIOOptions().PerMessageDeflate);
        Assert.Equal(1024, options.Threshold);
        Assert.Equal(CompressionLevel.Optimal, options.CompressionLevel);
        Assert.False(options.ClientNoContextTakeover);
    }

    [Fact]
    public void Appsettings_sample_turns_compression_on()
    {
        var json = Assert.Single(DocsPages.Blocks("compression.md", "json"));
        var builder = WebApplication.CreateSlimBuilder();
        builder.UseTestSilo();
        builder.Configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        builder.Services.AddSocketIO();
        using var app = builder.Build();

        var deflate = app.Services.GetRequiredService<IOptions<SocketIOOptions>>().Value.PerMessageDeflate;

        Assert.NotNull(deflate);
        Assert.Equal(4096, deflate.Threshold);
    }

    [Theory]
    [InlineData("Threshold", "-1", "SocketIO:PerMessageDeflate:Threshold must be 0 or more.")]
    [InlineData("CompressionLevel", "NoCompression", "SocketIO:PerMessageDeflate:CompressionLevel must be Optimal, Fastest or SmallestSize.")]
    public void Invalid_options_stop_the_host_naming_the_option(string option, string value, string message)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.UseTestSilo();
        builder.Configuration.AddInMemoryCollection([new($"SocketIO:PerMessageDeflate:{option}", value)]);
        builder.Services.AddSocketIO();
        using var app = builder.Build();

        var error = Assert.Throws<OptionsValidationException>(() => app.Services.GetRequiredService<IOptions<SocketIOOptions>>().Value);
        Assert.Contains(message, error.Failures);
    }

    [Fact]
    public async Task Compress_false_sends_the_thumbnail_as_it_is_and_other_broadcasts_compressed()
    {
        var builder = DocsHost.NewBuilder();
        builder.UseTestSilo();

        // docs/compression.md: Turning it on
        builder.Services.AddSocketIO(options => options.PerMessageDeflate = new PerMessageDeflateOptions
        {
            Threshold = 1024,
            CompressionLevel = CompressionLevel.Fastest,
        });

        var joined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var node = await DocsHost.StartAsync(builder, app => app.MapSocketIO("/socket.io", io => io.OnConnection(async socket =>
        {
            await socket.JoinAsync("gallery");
            joined.TrySetResult();
        })));
        var io = node.Io;
        await using var ws = await RawWebSocket.ConnectAsync(node.Url, "EIO=4&transport=websocket", extensions: "permessage-deflate; client_max_window_bits");
        Assert.Contains("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n", ws.ResponseHead, StringComparison.Ordinal);
        Assert.StartsWith("0{", await ws.ReadTextAsync(), StringComparison.Ordinal);
        await ws.SendTextAsync("40");
        Assert.StartsWith("40{", await ws.ReadTextAsync(), StringComparison.Ordinal);
        await joined.Task.WaitAsync(TestClient.DefaultWait);
        var jpeg = new byte[4096];

        // docs/compression.md: What is compressed
        // Already compressed: deflating a JPEG costs CPU and saves nothing.
        await io.To("gallery").Compress(false).EmitAsync("thumbnail", jpeg);

        await io.To("gallery").EmitAsync("thumbnail", jpeg);

        // Each emit: the text packet with a placeholder, then the attachment (4096 zero bytes, compressible).
        Assert.StartsWith("451-[\"thumbnail\"", await ws.ReadTextAsync(), StringComparison.Ordinal);
        Assert.Equal(0x82, (await ws.ReadFrameAsync()).First);
        Assert.StartsWith("451-[\"thumbnail\"", await ws.ReadTextAsync(), StringComparison.Ordinal);
        var (header, payload) = await ws.ReadFrameAsync();
        Assert.Equal(0xC2, header);
        Assert.Equal(jpeg, PerMessageDeflateFrames.Inflate(payload));
    }
}
