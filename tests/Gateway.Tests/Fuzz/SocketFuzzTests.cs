using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using TcpSocket = System.Net.Sockets.Socket;
using System.Text;
using CsCheck;
using Microsoft.Extensions.DependencyInjection;
using OrleansRooms.Engine;
using OrleansRooms.Specification;
using OrleansRooms.Tests.Protocol;
using Xunit.Abstractions;

namespace OrleansRooms.Tests.Fuzz;

/// <summary>
/// Fuzzing over real loopback sockets: a Socket.IO gateway fed mutated Engine.IO polling payloads and mutated WebSocket
/// frame streams (Engine.IO and Socket.IO packets inside). Checked, per input: the server answers as the specs say
/// (HTTP 200, 400 or 413 to a POST; only RFC 6455 close codes, 1002 for a frame header the RFC forbids), the session
/// ends when the client goes, and the next client is served: a mutated input never takes the server down. The
/// payload limit is set low (1 KiB) so the too-large paths are fuzzed too. See <see cref="ParserFuzzTests"/> for why
/// CsCheck.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class SocketFuzzTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int MaxPayload = 1024;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly FuzzBudget _budget = new(output);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _disconnected = new();
    private GatewayNode _node = null!;

    /// <summary>Engine.IO packets: open, ping, pong, upgrade, noop, base64 binary, and messages with the Socket.IO spec packets.</summary>
    private static readonly string[] EnginePackets =
        ["2", "3", "5", "6", "2probe", "bAQIDBA==", "4", .. ProtocolTestData.SpecClientPackets.Select(p => "4" + p)];

    public async Task InitializeAsync()
    {
        _node = await GatewayNode.StartAsync(configureOptions: o =>
        {
            o.MaxHttpBufferSize = MaxPayload;
            o.ConnectTimeout = TimeSpan.FromSeconds(30);
        });
        _node.Io.Of((_, _) => ValueTask.FromResult(true)); // any namespace a mutation makes up exists
        _node.Io.OnConnection(socket =>
        {
            socket.On("message-with-ack", e => e.Ack(e.Arguments.Count));
            socket.OnDisconnect(_ => _disconnected.GetOrAdd(socket.Id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult());
        });
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Polling_payloads_are_answered_per_spec()
    {
        // A payload of 1 to 3 packets joined by the record separator; "40" first most of the time, so events reach a socket.
        var corpus = Mutator.Utf8(EnginePackets.SelectMany(a => new[] { a, "40\u001e" + a, "40\u001e" + a + "\u001e42[\"x\"]" }));
        using var http = new HttpClient { BaseAddress = _node.Url, Timeout = Wait };

        await _budget.RunAsync("Engine.IO polling payload", Mutator.Of(corpus), async payload =>
        {
            var sid = await HandshakeAsync(http);
            using var post = await http.PostAsync(Polling(sid), new ByteArrayContent(payload));
            Assert.Contains(post.StatusCode, (HttpStatusCode[])[HttpStatusCode.OK, HttpStatusCode.BadRequest, HttpStatusCode.RequestEntityTooLarge]);
            if (post.StatusCode != HttpStatusCode.OK)
            {
                // A parse error or a payload too large ends the session: its sid is unknown from now on.
                using var after = await http.GetAsync(Polling(sid));
                Assert.Equal(HttpStatusCode.BadRequest, after.StatusCode);
                Assert.Equal("""{"code":1,"message":"Session ID unknown"}""", await after.Content.ReadAsStringAsync());
                return;
            }

            // Still open, or closed by the Socket.IO layer (a parse error there): either way the client may close it.
            using var close = await http.PostAsync(Polling(sid), new StringContent("1"));
            Assert.Contains(close.StatusCode, (HttpStatusCode[])[HttpStatusCode.OK, HttpStatusCode.BadRequest]);
        }, executions: 200, print: Describe);

        await AssertServesAsync();
    }

    [Fact]
    public async Task WebSocket_frames_are_answered_per_spec()
    {
        var text = Mutator.Of(Mutator.Utf8(EnginePackets));
        var first = Gen.Int[0, 12].Select(i => ((byte[])[0x81, 0x81, 0x81, 0x81, 0x82, 0x01, 0x00, 0x80, 0x89, 0x8A, 0x88, 0xC1, 0x8B])[i]);
        var frame = Gen.Select(first, text, Gen.Int[0, 19], Gen.Long[0, long.MaxValue], Gen.Byte,
            (head, payload, shape, claimed, any) => new Frame(shape == 0 ? any : head, payload, Masked: shape != 1, ClaimedLength: shape == 2 ? claimed : shape == 3 ? payload.Length + 1 + (claimed % 8) : null));

        await _budget.RunAsync("WebSocket frames", frame.Array[1, 4], async frames =>
        {
            var stream = frames.SelectMany(f => f.Encode()).ToArray();
            await using var ws = await RawClient.ConnectAsync(_node.Url);
            var sid = await ws.JoinMainNamespaceAsync();
            var gone = _disconnected.GetOrAdd(sid, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));

            await ws.SendAsync(stream);
            if (FirstHeaderStatus(stream) is { } status and not 0)
            {
                // A header RFC 6455 forbids: the server fails the connection by itself, with that status (§7.1.7),
                // then the client answers the close, as a client does, and the server ends the connection.
                Assert.Equal(status, await ws.ReadUntilCloseFrameAsync());
                ws.EndSending();
                await ws.ReadUntilEndAsync();
            }
            else
            {
                ws.EndSending(); // the client goes: whatever the frames did, the session must end
                var closeCode = await ws.ReadUntilEndAsync();

                // The server's own statuses, or the echo of a client's close: a valid status it received, or none
                // (1005 stands for a close frame without one; RFC 6455 §5.5.1, §7.4).
                Assert.True(
                    closeCode is null or 1002 or 1005 or 1007 or 1009 || WebSocketFrameHeader.IsValidReceivedCloseStatus((ushort)closeCode),
                    $"close code {closeCode}");
            }

            try
            {
                await gone.Task.WaitAsync(Wait);
            }
            catch (TimeoutException)
            {
                throw new Xunit.Sdk.XunitException($"socket {sid} not disconnected after its connection ended");
            }
            _disconnected.TryRemove(sid, out _);
        }, executions: 500, print: f => string.Join(" | ", f.Select(x => x.ToString())));

        await AssertServesAsync();
    }

    private static string Polling(string sid) => $"/socket.io/?EIO=4&transport=polling&sid={sid}";

    private static async Task<string> HandshakeAsync(HttpClient http)
    {
        var open = await http.GetStringAsync("/socket.io/?EIO=4&transport=polling");
        const string Prefix = "0{\"sid\":\"";
        Assert.StartsWith(Prefix, open, StringComparison.Ordinal);
        return open[Prefix.Length..open.IndexOf('"', Prefix.Length)];
    }

    /// <summary>After the fuzzing, no session is left behind, and a well-behaved client still gets in and is answered.</summary>
    private async Task AssertServesAsync()
    {
        await Engine.OpenSessions.WaitForAsync(_node.Services.GetRequiredService<EngineServer>(), _node.Services.GetRequiredService<IMeterFactory>(), 0);

        await using var client = await TestClient.ConnectAsync(_node.Url);
        Assert.Equal(3, (await client.EmitWithAckAsync("message-with-ack", 1, 2, 3))[0].GetInt32());
    }

    private static ushort? FirstHeaderStatus(byte[] stream)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(stream));
        return WebSocketFrameHeader.TryRead(ref reader, out var header) ? header.Validate(out _) : null;
    }

    private static string Describe(byte[] bytes) =>
        $"{System.Text.Json.JsonSerializer.Serialize(Encoding.UTF8.GetString(bytes))} (hex {Convert.ToHexString(bytes)})";

    /// <summary>One client frame: the first byte (FIN, RSV, opcode), the payload, masking, and a length field that may lie.</summary>
    public sealed record Frame(byte First, byte[] Payload, bool Masked, long? ClaimedLength)
    {
        public byte[] Encode()
        {
            var length = ClaimedLength ?? Payload.Length;
            var bytes = new List<byte> { First };
            var mask = Masked ? (byte)0x80 : (byte)0;
            if (length <= 125)
            {
                bytes.Add((byte)(mask | length));
            }
            else if (length <= ushort.MaxValue)
            {
                bytes.AddRange([(byte)(mask | 126), (byte)(length >> 8), (byte)length]);
            }
            else
            {
                bytes.Add((byte)(mask | 127));
                for (var i = 7; i >= 0; i--)
                {
                    bytes.Add((byte)(length >> (8 * i)));
                }
            }

            byte[] key = [0x37, 0xFA, 0x21, 0x3D];
            if (Masked)
            {
                bytes.AddRange(key);
            }

            for (var i = 0; i < Payload.Length; i++)
            {
                bytes.Add(Masked ? (byte)(Payload[i] ^ key[i & 3]) : Payload[i]);
            }

            return [.. bytes];
        }

        public override string ToString() =>
            $"0x{First:X2} {(Masked ? "masked" : "unmasked")} {ClaimedLength?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "exact"} {Describe(Payload)}";
    }

    /// <summary>A WebSocket client over a plain TCP socket that can send any bytes and stop sending (half-close).</summary>
    private sealed class RawClient : IAsyncDisposable
    {
        private readonly TcpSocket _socket;
        private readonly NetworkStream _stream;
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        private RawClient(TcpSocket socket)
        {
            _socket = socket;
            _stream = new NetworkStream(socket, ownsSocket: false);
        }

        public static async Task<RawClient> ConnectAsync(Uri url)
        {
            var socket = new TcpSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(url.Host, url.Port);
            var client = new RawClient(socket);
            await client.SendAsync(Encoding.ASCII.GetBytes(
                $"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {url.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
            var head = await client.ReadHeadAsync();
            Assert.StartsWith("HTTP/1.1 101", head, StringComparison.Ordinal);
            return client;
        }

        /// <summary>Reads the open packet, connects to <c>/</c> and returns the socket id.</summary>
        public async Task<string> JoinMainNamespaceAsync()
        {
            Assert.StartsWith("0{", Encoding.UTF8.GetString((await ReadFrameAsync())!.Value.Payload), StringComparison.Ordinal);
            await SendAsync(new Frame(0x81, "40"u8.ToArray(), Masked: true, ClaimedLength: null).Encode());
            var connect = Encoding.UTF8.GetString((await ReadFrameAsync())!.Value.Payload);
            const string Prefix = "40{\"sid\":\"";
            Assert.StartsWith(Prefix, connect, StringComparison.Ordinal);
            return connect[Prefix.Length..connect.IndexOf('"', Prefix.Length)];
        }

        public async Task SendAsync(byte[] bytes)
        {
            try
            {
                await _stream.WriteAsync(bytes);
            }
            catch (IOException)
            {
                // The server closed first (it may, on the first bad frame): what it answered is read next.
            }
        }

        public void EndSending()
        {
            try
            {
                _socket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
            }
        }

        /// <summary>Reads frames until a close frame, whose status it returns; null when the connection ends first.</summary>
        public async Task<int?> ReadUntilCloseFrameAsync()
        {
            while (await ReadFrameAsync() is { } frame)
            {
                if ((frame.First & 0x0F) == 0x8)
                {
                    return frame.Payload.Length >= 2 ? (frame.Payload[0] << 8) | frame.Payload[1] : 1005;
                }
            }

            return null;
        }

        /// <summary>Reads frames until the server closes the connection; the status of its close frame, if it sent one.</summary>
        public async Task<int?> ReadUntilEndAsync()
        {
            int? status = null;
            while (await ReadFrameAsync() is { } frame)
            {
                if ((frame.First & 0x0F) == 0x8)
                {
                    status = frame.Payload.Length >= 2 ? (frame.Payload[0] << 8) | frame.Payload[1] : 1005;
                }
            }

            return status;
        }

        public ValueTask DisposeAsync()
        {
            _stream.Dispose();
            _socket.Dispose();
            return ValueTask.CompletedTask;
        }

        private async Task<string> ReadHeadAsync()
        {
            var head = new StringBuilder();
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                head.Append((char)(await ReadBytesAsync(1))![0]);
            }

            return head.ToString();
        }

        /// <summary>One server frame (never masked); null at the end of the stream.</summary>
        private async Task<(byte First, byte[] Payload)?> ReadFrameAsync()
        {
            if (await ReadBytesAsync(2) is not { } header)
            {
                return null;
            }

            long length = header[1] & 0x7F;
            var extended = length switch { 126 => 2, 127 => 8, _ => 0 };
            if (extended > 0)
            {
                var bytes = await ReadBytesAsync(extended) ?? throw new EndOfStreamException();
                length = 0;
                foreach (var b in bytes)
                {
                    length = (length << 8) | b;
                }
            }

            return (header[0], await ReadBytesAsync((int)length) ?? throw new EndOfStreamException());
        }

        private async Task<byte[]?> ReadBytesAsync(int count)
        {
            using var timeout = new CancellationTokenSource(Wait);
            while (_end - _start < count)
            {
                if (_start > 0)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }

                int read;
                try
                {
                    read = await _stream.ReadAsync(_buffer.AsMemory(_end), timeout.Token);
                }
                catch (IOException)
                {
                    read = 0; // reset by the server: the end
                }

                if (read == 0)
                {
                    return null;
                }

                _end += read;
            }

            var result = _buffer.AsSpan(_start, count).ToArray();
            _start += count;
            return result;
        }
    }
}
