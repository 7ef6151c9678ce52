using System.Net.Sockets;
using System.Text;

namespace OrleansRooms.Tests.Engine;

/// <summary>
/// A WebSocket client that stops reading after the handshake, with a small receive buffer so the server's writes back
/// up soon: a slow consumer (a stalled network, a frozen tab, a hostile client).
/// </summary>
internal sealed class StalledClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private StalledClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    /// <summary>Opens <c>/socket.io/?{query}</c> and reads the 101 head; nothing more is read until <see cref="ReadToEndAsync"/>.</summary>
    public static async Task<StalledClient> ConnectAsync(Uri baseUri, string query)
    {
        var tcp = new TcpClient { ReceiveBufferSize = 4096 };
        await tcp.ConnectAsync(baseUri.Host, baseUri.Port);
        var client = new StalledClient(tcp);
        var request = $"GET /socket.io/?{query} HTTP/1.1\r\nHost: {baseUri.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {RawWebSocket.SampleKey}\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await client._stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        var head = new StringBuilder();
        var one = new byte[1];
        using var timeout = new CancellationTokenSource(EngineTestServer.Timeout);
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            await client._stream.ReadExactlyAsync(one, timeout.Token);
            head.Append((char)one[0]);
        }

        Assert.StartsWith("HTTP/1.1 101", head.ToString(), StringComparison.Ordinal);
        return client;
    }

    /// <summary>Sends one masked text frame (short payloads only).</summary>
    public async Task SendTextAsync(string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        Assert.True(payload.Length <= 125);
        byte[] key = [0x11, 0x22, 0x33, 0x44];
        var frame = new byte[6 + payload.Length];
        frame[0] = 0x81;
        frame[1] = (byte)(0x80 | payload.Length);
        key.CopyTo(frame, 2);
        for (var i = 0; i < payload.Length; i++)
        {
            frame[6 + i] = (byte)(payload[i] ^ key[i & 3]);
        }

        await _stream.WriteAsync(frame);
    }

    /// <summary>Reads (and drops) whatever was sent until the server ends the connection; false if it is still open after the timeout.</summary>
    public async Task<bool> ReadToEndAsync()
    {
        using var timeout = new CancellationTokenSource(EngineTestServer.Timeout);
        var buffer = new byte[64 * 1024];
        try
        {
            while (await _stream.ReadAsync(buffer, timeout.Token) > 0)
            {
            }

            return true;
        }
        catch (IOException)
        {
            // Reset by the server: ended too.
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
