using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace OrleansRooms.Specification;

/// <summary>
/// A minimal Socket.IO client over a raw WebSocket (Engine.IO v4, Socket.IO v5, text packets): enough to connect to a
/// namespace, emit, ack and record what the server sends. Real frames on a real socket; no server code involved.
/// </summary>
public sealed class TestClient : IAsyncDisposable
{
    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(10);

    private readonly ClientWebSocket _socket = new();
    private readonly Channel<ReceivedEvent> _events = Channel.CreateUnbounded<ReceivedEvent>();
    private readonly Dictionary<int, TaskCompletionSource<JsonElement>> _acks = [];
    private readonly TaskCompletionSource<string> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly string _namespace;
    private Task? _receiveLoop;
    private int _nextAckId;

    private TestClient(string @namespace) => _namespace = @namespace;

    /// <summary>The socket id the server assigned (from the CONNECT packet).</summary>
    public string Id { get; private set; } = "";

    /// <summary>The private session id the server handed out with connection state recovery on (from the CONNECT packet); null otherwise.</summary>
    public string? Pid { get; private set; }

    /// <summary>Completes with the namespace disconnect reason seen by this client (<c>io server disconnect</c> or <c>transport close</c>).</summary>
    public Task<string> Disconnected => _disconnected.Task;

    /// <summary>Handles events whose name is a key by acknowledging with the value.</summary>
    public Dictionary<string, object?> AutoAcks { get; } = [];

    /// <summary>How long <see cref="JoinNamespaceAsync"/> and <see cref="EmitWithAckAsync"/> wait for the server's answer.</summary>
    public TimeSpan AnswerWait { get; set; } = DefaultWait;

    /// <summary>Opens a WebSocket (with <paramref name="headers"/> on its handshake request) and connects to <paramref name="namespace"/>.</summary>
    public static async Task<TestClient> ConnectAsync(Uri baseUrl, string @namespace = "/", object? auth = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        var client = await OpenAsync(baseUrl, @namespace, headers);
        try
        {
            await client.JoinNamespaceAsync(auth);
            return client;
        }
        catch
        {
            // A refused connection (connect_error) leaves the WebSocket open: close it, or the server waits for it on shutdown.
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Opens the Engine.IO connection without connecting to the namespace.</summary>
    public static async Task<TestClient> OpenAsync(Uri baseUrl, string @namespace = "/", IReadOnlyDictionary<string, string>? headers = null)
    {
        var client = new TestClient(@namespace);
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            client._socket.Options.SetRequestHeader(name, value);
        }

        var ws = new UriBuilder(baseUrl) { Scheme = baseUrl.Scheme == "https" ? "wss" : "ws", Path = "/socket.io/", Query = "EIO=4&transport=websocket" };
        using var timeout = new CancellationTokenSource(DefaultWait);
        await client._socket.ConnectAsync(ws.Uri, timeout.Token);
        client._receiveLoop = Task.Run(client.ReceiveLoopAsync);
        return client;
    }

    /// <summary>Sends CONNECT for the client's namespace and waits for the server's answer; a CONNECT_ERROR throws <see cref="ConnectErrorException"/>.</summary>
    public async Task JoinNamespaceAsync(object? auth = null)
    {
        await SendRawAsync("40" + Prefix() + (auth is null ? "" : JsonSerializer.Serialize(auth)));
        Id = await _connected.Task.WaitAsync(AnswerWait);
    }

    /// <summary>Completes when the WebSocket is closed by the server or the network.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Emits an event to the server.</summary>
    public Task EmitAsync(string name, params object?[] args) => SendRawAsync("42" + Prefix() + Serialize(name, args));

    /// <summary>Emits an event and waits for the server's acknowledgement (its arguments array).</summary>
    public async Task<JsonElement> EmitWithAckAsync(string name, params object?[] args)
    {
        var tcs = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        int id;
        lock (_acks)
        {
            id = _nextAckId++;
            _acks[id] = tcs;
        }

        await SendRawAsync("42" + Prefix() + id + Serialize(name, args));
        return await tcs.Task.WaitAsync(AnswerWait);
    }

    /// <summary>Every event the server sends from now on, in order, until the connection closes (one reader at a time).</summary>
    public IAsyncEnumerable<ReceivedEvent> ReadEventsAsync(CancellationToken cancellationToken = default) => _events.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Takes the next event already received, if there is one.</summary>
    public bool TryReadEvent(out ReceivedEvent e) => _events.Reader.TryRead(out e!);

    /// <summary>Waits for the next event (of any name) the server sends.</summary>
    public async Task<ReceivedEvent> NextEventAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultWait);
        try
        {
            return await _events.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Client {Id} received no event within {(timeout ?? DefaultWait).TotalSeconds}s.");
        }
    }

    /// <summary>Waits for the next event and checks its name.</summary>
    public async Task<ReceivedEvent> ExpectEventAsync(string name)
    {
        var next = await NextEventAsync();
        Assert.True(next.Name == name, $"Client {Id} expected '{name}' but received '{next.Name}' {next.Arguments}.");
        return next;
    }

    /// <summary>
    /// Proves that nothing else was delivered before a marker: the server sends <paramref name="marker"/> to this
    /// client, and it must be the next event. Connections are ordered, so an extra copy would arrive first.
    /// </summary>
    public async Task ExpectNothingBeforeAsync(string marker)
    {
        var next = await NextEventAsync();
        Assert.True(next.Name == marker, $"Client {Id} received an unexpected '{next.Name}' {next.Arguments} before '{marker}'.");
    }

    /// <summary>Disconnects from the namespace (Socket.IO DISCONNECT), keeping the connection.</summary>
    public Task DisconnectNamespaceAsync() => SendRawAsync("41" + (_namespace == "/" ? "" : _namespace + ","));

    /// <summary>Closes the WebSocket.</summary>
    public async Task CloseAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(DefaultWait);
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            catch (WebSocketException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        if (_receiveLoop is not null)
        {
            await _receiveLoop.WaitAsync(DefaultWait).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        _socket.Dispose();
        _sendLock.Dispose();
    }

    private string Prefix() => _namespace == "/" ? "" : _namespace + ",";

    private static string Serialize(string name, object?[] args)
    {
        var items = new object?[args.Length + 1];
        items[0] = name;
        args.CopyTo(items, 1);
        return JsonSerializer.Serialize(items);
    }

    /// <summary>Sends a raw Engine.IO text packet (for example <c>42["ev"]</c>), for tests of malformed input.</summary>
    public async Task SendRawAsync(string text)
    {
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                var text = Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
                message.SetLength(0);
                await OnEnginePacketAsync(text);
            }
        }
        catch (WebSocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            _disconnected.TrySetResult("transport close");
            _connected.TrySetException(new InvalidOperationException("Closed before connecting."));
            _closed.TrySetResult();
            _events.Writer.TryComplete();
            FailPendingAcks();
        }
    }

    // A closed connection answers nothing more: an acknowledgement still awaited fails now rather than at its timeout.
    private void FailPendingAcks()
    {
        List<TaskCompletionSource<JsonElement>> pending;
        lock (_acks)
        {
            pending = [.. _acks.Values];
            _acks.Clear();
        }

        foreach (var tcs in pending)
        {
            tcs.TrySetException(new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The connection closed before the acknowledgement."));
        }
    }

    private async Task OnEnginePacketAsync(string text)
    {
        switch (text[0])
        {
            case '2':
                await SendRawAsync("3");
                return;
            case '4':
                await OnSocketIOPacketAsync(text.AsSpan(1).ToString());
                return;
        }
    }

    private async Task OnSocketIOPacketAsync(string packet)
    {
        var type = packet[0];
        var rest = packet.AsSpan(1);
        if (rest.Length > 0 && rest[0] == '/')
        {
            var comma = rest.IndexOf(',');
            var nsp = rest[..comma].ToString();
            if (nsp != _namespace)
            {
                return;
            }

            rest = rest[(comma + 1)..];
        }
        else if (_namespace != "/")
        {
            return;
        }

        var digits = 0;
        while (digits < rest.Length && char.IsAsciiDigit(rest[digits]))
        {
            digits++;
        }

        int? ackId = digits > 0 ? int.Parse(rest[..digits], System.Globalization.CultureInfo.InvariantCulture) : null;
        var json = rest[digits..].ToString();
        switch (type)
        {
            case '0':
                var connect = JsonDocument.Parse(json).RootElement;
                Pid = connect.TryGetProperty("pid", out var pid) ? pid.GetString() : null;
                _connected.TrySetResult(connect.GetProperty("sid").GetString()!);
                break;
            case '1':
                _disconnected.TrySetResult("io server disconnect");
                break;
            case '4':
                _connected.TrySetException(new ConnectErrorException(JsonDocument.Parse(json).RootElement));
                break;
            case '2':
                var array = JsonDocument.Parse(json).RootElement;
                var name = array[0].GetString()!;
                if (ackId is { } id && AutoAcks.TryGetValue(name, out var response))
                {
                    await SendRawAsync("43" + Prefix() + id + JsonSerializer.Serialize(new[] { response }));
                }

                _events.Writer.TryWrite(new ReceivedEvent(name, array, ackId));
                break;
            case '3':
                TaskCompletionSource<JsonElement>? tcs;
                lock (_acks)
                {
                    _acks.Remove(ackId!.Value, out tcs);
                }

                tcs?.TrySetResult(JsonDocument.Parse(json).RootElement);
                break;
        }
    }
}

/// <summary>An event received by a <see cref="TestClient"/>: its name and the whole JSON array (name first).</summary>
public sealed record ReceivedEvent(string Name, JsonElement Arguments, int? AckId)
{
    public JsonElement this[int index] => Arguments[index + 1];
}

/// <summary>The server refused the namespace connection (CONNECT_ERROR); <see cref="Payload"/> is <c>{message, data}</c>.</summary>
public sealed class ConnectErrorException(JsonElement payload) : Exception("connect_error: " + payload.GetRawText())
{
    public JsonElement Payload { get; } = payload;
}
