using System.IO.Compression;
using System.Text;
using OrleansRooms.Engine;

namespace OrleansRooms.Tests.Engine;

/// <summary>
/// <c>permessage-deflate</c> (RFC 7692) on the WebSocket transport, byte by byte over raw TCP: the negotiation answer,
/// RSV1, what the compressed payloads inflate to, the threshold, and compressed input from the client with its limits.
/// </summary>
public sealed class EnginePerMessageDeflateTests
{
    private const string Offer = "permessage-deflate; client_max_window_bits";

    [Fact]
    public async Task Without_the_option_an_offer_is_not_answered_and_nothing_is_compressed()
    {
        await using var server = await EngineTestServer.StartAsync();
        await using var ws = await OpenAsync(server, Offer);
        var sid = (await server.Handler.NextOpenedAsync()).Id;

        Assert.DoesNotContain("Sec-WebSocket-Extensions", ws.ResponseHead, StringComparison.OrdinalIgnoreCase);
        await ws.SendTextAsync("4" + new string('a', 4000));
        Assert.Equal(new string('a', 4000), (await server.Handler.NextMessageAsync(sid)).Text);
        Assert.Equal(0x81, (await ws.ReadFrameAsync()).First);
    }

    [Theory]
    [InlineData("permessage-deflate", "permessage-deflate; server_no_context_takeover")]
    [InlineData("permessage-deflate; client_max_window_bits", "permessage-deflate; server_no_context_takeover")]
    [InlineData("permessage-deflate; client_max_window_bits=10", "permessage-deflate; server_no_context_takeover")]
    [InlineData("permessage-deflate; server_no_context_takeover", "permessage-deflate; server_no_context_takeover")]
    [InlineData("permessage-deflate; client_no_context_takeover", "permessage-deflate; server_no_context_takeover; client_no_context_takeover")]
    [InlineData("permessage-deflate; server_max_window_bits=15", "permessage-deflate; server_no_context_takeover; server_max_window_bits=15")]
    [InlineData("permessage-deflate; server_max_window_bits=\"15\"", "permessage-deflate; server_no_context_takeover; server_max_window_bits=15")]
    [InlineData("permessage-deflate; server_max_window_bits=10, permessage-deflate", "permessage-deflate; server_no_context_takeover")]
    [InlineData("x-webkit-deflate-frame, permessage-deflate; client_max_window_bits", "permessage-deflate; server_no_context_takeover")]
    public async Task An_offer_the_server_can_honour_is_answered_with_server_no_context_takeover(string offer, string answer)
    {
        await using var server = await EngineTestServer.StartAsync(options => options.PerMessageDeflate = new());
        await using var ws = await OpenAsync(server, offer);

        Assert.Contains($"Sec-WebSocket-Extensions: {answer}\r\n", ws.ResponseHead, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("permessage-deflate; server_max_window_bits=10")] // System.IO.Compression deflates with a 32 KB window only
    [InlineData("permessage-deflate; server_max_window_bits")]    // the server's limit needs a value
    [InlineData("permessage-deflate; client_max_window_bits=16")]
    [InlineData("permessage-deflate; client_max_window_bits=08")]
    [InlineData("permessage-deflate; server_no_context_takeover; server_no_context_takeover")]
    [InlineData("permessage-deflate; client_no_context_takeover=1")]
    [InlineData("permessage-deflate; unknown_parameter")]
    [InlineData("x-webkit-deflate-frame")]
    public async Task An_offer_the_server_cannot_honour_is_declined_and_the_websocket_runs_uncompressed(string offer)
    {
        await using var server = await EngineTestServer.StartAsync(options => options.PerMessageDeflate = new());
        await using var ws = await OpenAsync(server, offer);
        var sid = (await server.Handler.NextOpenedAsync()).Id;

        Assert.DoesNotContain("Sec-WebSocket-Extensions", ws.ResponseHead, StringComparison.OrdinalIgnoreCase);
        await ws.SendTextAsync("4" + new string('a', 4000));
        Assert.Equal(new string('a', 4000), (await server.Handler.NextMessageAsync(sid)).Text);
        Assert.Equal(0x81, (await ws.ReadFrameAsync()).First);
    }

    [Fact]
    public async Task ClientNoContextTakeover_asks_every_client_to_compress_each_message_on_its_own()
    {
        await using var server = await EngineTestServer.StartAsync(options => options.PerMessageDeflate = new() { ClientNoContextTakeover = true });
        await using var ws = await OpenAsync(server, Offer);

        Assert.Contains("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n", ws.ResponseHead, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Text_and_binary_messages_at_the_threshold_are_sent_compressed_with_RSV1()
    {
        await using var server = await EngineTestServer.StartAsync(options => options.PerMessageDeflate = new() { Threshold = 1024 });
        await using var ws = await OpenAsync(server, Offer);
        var text = "4" + string.Concat(Enumerable.Repeat("hello, room! ", 100))[..1023];
        var binary = Enumerable.Repeat((byte)7, 1024).ToArray();

        await ws.SendTextAsync(text);
        await ws.SendFrameAsync(0x82, binary);

        // The echo of "4" + 1023 characters: a text packet of 1024 bytes, FIN + RSV1 + text.
        var (first, payload) = await ws.ReadFrameAsync();
        Assert.Equal(0xC1, first);
        Assert.True(payload.Length < 1024);
        Assert.Equal("4" + text[1..], Encoding.UTF8.GetString(PerMessageDeflateFrames.Inflate(payload)));
        (first, payload) = await ws.ReadFrameAsync();
        Assert.Equal(0xC2, first);
        Assert.Equal(binary, PerMessageDeflateFrames.Inflate(payload));
    }

    [Fact]
    public async Task Messages_under_the_threshold_are_sent_uncompressed()
    {
        await using var server = await EngineTestServer.StartAsync(options => options.PerMessageDeflate = new() { Threshold = 1024 });
        await using var ws = await OpenAsync(server, Offer);
        var text = new string('a', 1022);

        await ws.SendTextAsync("4" + text);

        // "4" + 1022 characters: 1023 bytes, one under the threshold.
        Assert.Equal("4" + text, await ws.ReadTextAsync());
    }

    [Fact]
    public async Task Compressed_client_messages_are_inflated_with_the_clients_context_kept_between_messages()
    {
        await using var server = await EngineTestServer.StartAsync(options => options.PerMessageDeflate = new());
        server.Handler.Echo = false;
        await using var ws = await OpenAsync(server, Offer);
        var sid = (await server.Handler.NextOpenedAsync()).Id;
        using var output = new MemoryStream();
        using var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true);
        var random = new Random(7);
        var text = "4" + new string([.. Enumerable.Range(0, 4000).Select(_ => (char)random.Next('a', 'z' + 1))]);

        var first = PerMessageDeflateFrames.Deflate(deflate, output, Encoding.UTF8.GetBytes(text));
        var second = PerMessageDeflateFrames.Deflate(deflate, output, Encoding.UTF8.GetBytes(text));
        await ws.SendFrameAsync(0xC1, first);
        await ws.SendFrameAsync(0xC1, second);
        await ws.SendFrameAsync(0xC2, PerMessageDeflateFrames.Deflate([1, 2, 3, 1, 2, 3]));

        // The second message refers back to the first, so only a client that kept its context can read it.
        Assert.True(second.Length < first.Length / 10, $"messages of {first.Length} and {second.Length} bytes");
        Assert.Equal(text[1..], (await server.Handler.NextMessageAsync(sid)).Text);
        Assert.Equal(text[1..], (await server.Handler.NextMessageAsync(sid)).Text);
        Assert.Equal([1, 2, 3, 1, 2, 3], (await server.Handler.NextMessageAsync(sid)).Binary);
    }

    [Fact]
    public async Task A_compressed_message_in_fragments_carries_RSV1_on_its_first_frame_only()
    {
        await using var server = await EngineTestServer.StartAsync(options => options.PerMessageDeflate = new());
        server.Handler.Echo = false;
        await using var ws = await OpenAsync(server, Offer);
        var sid = (await server.Handler.NextOpenedAsync()).Id;
        var text = "4" + new string('x', 5000);
        var compressed = PerMessageDeflateFrames.Deflate(Encoding.UTF8.GetBytes(text));

        await ws.SendFrameAsync(0x41, compressed[..5]);
        await ws.SendFrameAsync(0x80, compressed[5..]);

        Assert.Equal(text[1..], (await server.Handler.NextMessageAsync(sid)).Text);
    }

    [Fact]
    public async Task A_message_that_inflates_past_MaxHttpBufferSize_closes_with_1009()
    {
        await using var server = await EngineTestServer.StartAsync(options =>
        {
            options.MaxHttpBufferSize = 100_000;
            options.PerMessageDeflate = new();
        });
        await using var ws = await OpenAsync(server, Offer);
        var sid = (await server.Handler.NextOpenedAsync()).Id;

        // 10 MB of zeros deflate to about 10 KB: well under the limit on the wire, 100 times over it inflated.
        var bomb = PerMessageDeflateFrames.Deflate(new byte[10_000_000]);
        Assert.True(bomb.Length < 100_000);
        await ws.SendFrameAsync(0xC2, bomb);

        Assert.Equal(1009, await ws.ReadCloseStatusAsync());
        Assert.Equal("transport error", await server.Handler.ClosedAsync(sid));
    }

    [Fact]
    public async Task A_message_that_inflates_to_exactly_MaxHttpBufferSize_is_delivered()
    {
        await using var server = await EngineTestServer.StartAsync(options =>
        {
            options.MaxHttpBufferSize = 100_000;
            options.PerMessageDeflate = new();
        });
        server.Handler.Echo = false;
        await using var ws = await OpenAsync(server, Offer);
        var sid = (await server.Handler.NextOpenedAsync()).Id;

        await ws.SendFrameAsync(0xC2, PerMessageDeflateFrames.Deflate(new byte[100_000]));

        Assert.Equal(100_000, (await server.Handler.NextMessageAsync(sid)).Binary!.Length);
    }

    [Fact]
    public async Task Invalid_deflate_data_closes_with_1007()
    {
        await using var server = await EngineTestServer.StartAsync(options => options.PerMessageDeflate = new());
        await using var ws = await OpenAsync(server, Offer);

        // Block type 3 does not exist (RFC 1951 §3.2.3).
        await ws.SendFrameAsync(0xC1, [0xFF, 0xFF, 0xFF, 0xFF]);

        Assert.Equal(1007, await ws.ReadCloseStatusAsync());
    }

    [Theory]
    [InlineData(false, 0xC1)] // RSV1 without the extension
    [InlineData(true, 0x89)]  // RSV1 on a ping
    public async Task RSV1_where_the_extension_does_not_allow_it_closes_with_1002(bool negotiate, byte pingOrText)
    {
        await using var server = await EngineTestServer.StartAsync(options => options.PerMessageDeflate = negotiate ? new() : null);
        await using var ws = await OpenAsync(server, Offer);

        await ws.SendFrameAsync((byte)(pingOrText | 0x40), [0x01]);

        Assert.Equal(1002, await ws.ReadCloseStatusAsync());
    }

    [Fact]
    public async Task RSV1_on_a_continuation_frame_closes_with_1002()
    {
        await using var server = await EngineTestServer.StartAsync(options => options.PerMessageDeflate = new());
        await using var ws = await OpenAsync(server, Offer);

        await ws.SendFrameAsync(0x01, "4a"u8.ToArray());
        await ws.SendFrameAsync(0xC0, "b"u8.ToArray());

        Assert.Equal(1002, await ws.ReadCloseStatusAsync());
    }

    [Fact]
    public void A_packet_is_compressed_once_and_its_frame_shared_by_every_writer()
    {
        var packet = EnginePacket.FromText("4" + new string('z', 2000));

        var first = packet.DeflatedFrame(1024, CompressionLevel.Optimal);
        var second = packet.DeflatedFrame(1024, CompressionLevel.Optimal);

        Assert.True(first.Span.Overlaps(second.Span, out var offset) && offset == 0 && first.Length == second.Length);
        Assert.Equal(0xC1, first.Span[0]);
    }

    private static async Task<RawWebSocket> OpenAsync(EngineTestServer server, string offer)
    {
        var ws = await RawWebSocket.ConnectAsync(server.BaseUri, "EIO=4&transport=websocket", extensions: offer);
        Assert.StartsWith("0{", await ws.ReadTextAsync(), StringComparison.Ordinal);
        return ws;
    }
}
