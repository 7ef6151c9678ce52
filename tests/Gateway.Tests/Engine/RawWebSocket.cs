using System.Net.Sockets;
using System.Text;

namespace OrleansRooms.Tests.Engine;

/// <summary>A byte-level WebSocket client over TCP, for exact checks and frames a real client would never send.</summary>
internal sealed class RawWebSocket : IAsyncDisposable
{
    public const string SampleKey = "dGhlIHNhbXBsZSBub25jZQ==";

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    // Reads go through a buffer (floods answer with many small frames); writes go to the socket directly.
    private readonly BufferedStream _input;

    private RawWebSocket(TcpClient tcp, string responseHead)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _input = new BufferedStream(_stream, 64 * 1024);
        ResponseHead = responseHead;
    }

    public string ResponseHead { get; }

    /// <summary>Connects and reads the handshake answer; a small <paramref name="receiveBufferSize"/> makes the server's writes stall sooner.</summary>
    /// <remarks><paramref name="extensions"/> is sent as <c>Sec-WebSocket-Extensions</c>, such as <c>permessage-deflate</c>.</remarks>
    public static async Task<RawWebSocket> ConnectAsync(Uri baseUri, string query, string key = SampleKey, string version = "13", int? receiveBufferSize = null, string? extensions = null)
    {
        var tcp = new TcpClient();
        if (receiveBufferSize is { } size)
        {
            tcp.ReceiveBufferSize = size;
        }

        await tcp.ConnectAsync(baseUri.Host, baseUri.Port);
        var stream = tcp.GetStream();
        var request = $"GET /socket.io/?{query} HTTP/1.1\r\nHost: {baseUri.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: {version}\r\n"
            + (extensions is null ? "" : $"Sec-WebSocket-Extensions: {extensions}\r\n") + "\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        var head = new StringBuilder();
        var one = new byte[1];
        using var timeout = new CancellationTokenSource(EngineTestServer.Timeout);
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            await stream.ReadExactlyAsync(one, timeout.Token);
            head.Append((char)one[0]);
        }

        return new RawWebSocket(tcp, head.ToString());
    }

    /// <summary>Sends one frame: <paramref name="first"/> is FIN/RSV/opcode; <paramref name="claimedLength"/> overrides the length field.</summary>
    public async Task SendFrameAsync(byte first, byte[] payload, bool mask = true, long? claimedLength = null) =>
        await _stream.WriteAsync(Frame(first, payload, mask, claimedLength));

    /// <summary>Sends bytes as they are (frames built with <see cref="Frame"/>, many at once).</summary>
    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes) => await _stream.WriteAsync(bytes);

    /// <summary>The bytes of one client frame, as <see cref="SendFrameAsync"/> sends it.</summary>
    public static byte[] Frame(byte first, ReadOnlySpan<byte> payload, bool mask = true, long? claimedLength = null)
    {
        var length = claimedLength ?? payload.Length;
        var frame = new List<byte>(payload.Length + 14) { first };
        var maskBit = mask ? (byte)0x80 : (byte)0;
        if (length <= 125)
        {
            frame.Add((byte)(maskBit | length));
        }
        else if (length <= ushort.MaxValue)
        {
            frame.Add((byte)(maskBit | 126));
            frame.Add((byte)(length >> 8));
            frame.Add((byte)length);
        }
        else
        {
            frame.Add((byte)(maskBit | 127));
            for (var i = 7; i >= 0; i--)
            {
                frame.Add((byte)(length >> (8 * i)));
            }
        }

        byte[] key = [0x37, 0xfa, 0x21, 0x3d];
        if (mask)
        {
            frame.AddRange(key);
        }

        for (var i = 0; i < payload.Length; i++)
        {
            frame.Add(mask ? (byte)(payload[i] ^ key[i & 3]) : payload[i]);
        }

        return frame.ToArray();
    }

    public Task SendTextAsync(string text) => SendFrameAsync(0x81, Encoding.UTF8.GetBytes(text));

    /// <summary>Reads one server frame (server frames are never masked), within the test timeout unless given a token.</summary>
    public async Task<(byte First, byte[] Payload)> ReadFrameAsync(CancellationToken cancellationToken = default)
    {
        using var timeout = cancellationToken.CanBeCanceled ? null : new CancellationTokenSource(EngineTestServer.Timeout);
        var token = timeout?.Token ?? cancellationToken;
        var header = new byte[2];
        await _input.ReadExactlyAsync(header, token);
        Assert.Equal(0, header[1] & 0x80);
        long length = header[1] & 0x7F;
        if (length == 126)
        {
            var ext = new byte[2];
            await _input.ReadExactlyAsync(ext, token);
            length = (ext[0] << 8) | ext[1];
        }
        else if (length == 127)
        {
            var ext = new byte[8];
            await _input.ReadExactlyAsync(ext, token);
            length = 0;
            foreach (var b in ext)
            {
                length = (length << 8) | b;
            }
        }

        var payload = new byte[length];
        await _input.ReadExactlyAsync(payload, token);
        return (header[0], payload);
    }

    /// <summary>Reads frames until a close frame; returns its status code.</summary>
    public async Task<int> ReadCloseStatusAsync()
    {
        while (true)
        {
            var (first, payload) = await ReadFrameAsync();
            if ((first & 0x0F) == 0x8)
            {
                return payload.Length >= 2 ? (payload[0] << 8) | payload[1] : 0;
            }
        }
    }

    /// <summary>Reads until the server ends the connection; returns how many bytes came before the end.</summary>
    public async Task<int> ReadToEndAsync()
    {
        using var timeout = new CancellationTokenSource(EngineTestServer.Timeout);
        var buffer = new byte[4096];
        var total = 0;
        int read;
        while ((read = await _input.ReadAsync(buffer, timeout.Token)) != 0)
        {
            total += read;
        }

        return total;
    }

    public async Task<string> ReadTextAsync(CancellationToken cancellationToken = default)
    {
        var (first, payload) = await ReadFrameAsync(cancellationToken);
        Assert.Equal(0x81, first);
        return Encoding.UTF8.GetString(payload);
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
