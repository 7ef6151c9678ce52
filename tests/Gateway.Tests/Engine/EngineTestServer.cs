using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansRooms.Engine;

namespace OrleansRooms.Tests.Engine;

/// <summary>Kestrel on a loopback port with <see cref="EngineServer"/> mapped at <c>/socket.io/</c> and a recording handler.</summary>
internal sealed class EngineTestServer : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly WebApplication _app;

    private EngineTestServer(WebApplication app, Uri baseUri)
    {
        _app = app;
        BaseUri = baseUri;
        Engine = app.Services.GetRequiredService<EngineServer>();
        Handler = app.Services.GetRequiredService<RecordingHandler>();
        Engine.PollParked = session => Handler.OnPollParked(session.Id);
        Http = new HttpClient { BaseAddress = baseUri, Timeout = Timeout };
    }

    public Uri BaseUri { get; }

    public EngineServer Engine { get; }

    public RecordingHandler Handler { get; }

    public HttpClient Http { get; }

    /// <summary>
    /// Starts a server; <paramref name="time"/> drives the Engine.IO layer's timers (heartbeat, upgrade, close deadlines; a
    /// FakeTimeProvider in timing tests); <paramref name="receivePool"/> supplies the WebSocket receive buffers.
    /// </summary>
    public static async Task<EngineTestServer> StartAsync(
        Action<EngineIOOptions>? configure = null, Action<KestrelServerOptions>? kestrel = null, LogRecorder? logs = null, TimeProvider? time = null,
        MemoryPool<byte>? receivePool = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
            builder.Logging.AddProvider(logs);
        }

        builder.WebHost.UseKestrel(options =>
        {
            options.Listen(IPAddress.Loopback, 0);
            kestrel?.Invoke(options);
        });
        var options = new EngineIOOptions();
        configure?.Invoke(options);
        builder.Services.AddMetrics();
        builder.Services.AddSingleton(time ?? TimeProvider.System);
        builder.Services.AddSingleton<RecordingHandler>();
        builder.Services.AddSingleton<IEngineHandler>(services => services.GetRequiredService<RecordingHandler>());
        builder.Services.AddSingleton(services => new EngineServer(
            options,
            services.GetRequiredService<IEngineHandler>(),
            services.GetRequiredService<ILoggerFactory>(),
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>())
        {
            ReceivePool = receivePool ?? MemoryPool<byte>.Shared,
        });
        var app = builder.Build();
        var engine = app.Services.GetRequiredService<EngineServer>();
        app.Map("/socket.io", branch => branch.Run(engine.HandleRequestAsync));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new EngineTestServer(app, new Uri(address));
    }

    public Uri WebSocketUri(string query) => new($"ws://{BaseUri.Authority}/socket.io/?{query}");

    public string PollingPath(string sid) => $"/socket.io/?EIO=4&transport=polling&sid={sid}";

    /// <summary>A polling handshake; returns the sid.</summary>
    public async Task<string> HandshakeAsync()
    {
        var body = await Http.GetStringAsync("/socket.io/?EIO=4&transport=polling");
        Assert.StartsWith("0{\"sid\":\"", body, StringComparison.Ordinal);
        var start = "0{\"sid\":\"".Length;
        var sid = body[start..body.IndexOf('"', start)];
        await Handler.NextOpenAsync(sid);
        return sid;
    }

    public async Task<(HttpStatusCode Status, string Body)> GetAsync(string sid, CancellationToken cancellationToken = default)
    {
        using var response = await Http.GetAsync(PollingPath(sid), cancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    public async Task<(HttpStatusCode Status, string Body)> PostAsync(string sid, string payload)
    {
        using var content = new StringContent(payload, Encoding.UTF8, "text/plain");
        using var response = await Http.PostAsync(PollingPath(sid), content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Engine.ShutdownAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Assert.False(Handler.OverlappingCalls, "handler calls overlapped on a session");
    }
}

/// <summary>Records what the Engine.IO layer reports and, unless told otherwise, echoes every message back.</summary>
internal sealed class RecordingHandler : IEngineHandler
{
    private readonly ConcurrentDictionary<string, SessionRecord> _sessions = new();
    private readonly Channel<IEngineConnection> _opens = Channel.CreateUnbounded<IEngineConnection>();

    public bool Echo { get; set; } = true;

    public bool OverlappingCalls { get; private set; }

    public IEngineConnection Connection(string sid) => Record(sid).Connection!;

    public void OnOpen(IEngineConnection connection)
    {
        var record = Record(connection.Id);
        record.Connection = connection;
        Enter(record);
        record.Opens++;
        record.Opened.TrySetResult();
        Leave(record);
        _opens.Writer.TryWrite(connection);
    }

    public void OnMessage(IEngineConnection connection, in ReadOnlySequence<byte> data, bool isBinary)
    {
        var record = Record(connection.Id);
        Enter(record);
        var bytes = data.ToArray();
        record.Messages.Writer.TryWrite(new Message(isBinary ? null : Encoding.UTF8.GetString(bytes), isBinary ? bytes : null));
        if (Echo)
        {
            var packet = isBinary ? EnginePacket.FromBinary(bytes) : EnginePacket.FromText([(byte)'4', .. bytes]);
            connection.Send([packet]);
        }

        Leave(record);
    }

    public void OnClose(IEngineConnection connection, string reason)
    {
        var record = Record(connection.Id);
        Enter(record);
        record.CloseCount++;
        record.Closed.TrySetResult(reason);
        Leave(record);
    }

    /// <summary>The next session opened (any sid).</summary>
    public async Task<IEngineConnection> NextOpenedAsync() => await _opens.Reader.ReadAsync().AsTask().WaitAsync(EngineTestServer.Timeout);

    public Task NextOpenAsync(string sid) => Record(sid).Opened.Task.WaitAsync(EngineTestServer.Timeout);

    /// <summary>The session's next message, within the test timeout or <paramref name="within"/> (a flood takes the server longer).</summary>
    public async Task<Message> NextMessageAsync(string sid, TimeSpan? within = null) =>
        await Record(sid).Messages.Reader.ReadAsync().AsTask().WaitAsync(within ?? EngineTestServer.Timeout);

    public async Task<string> ClosedAsync(string sid)
    {
        var reason = await Record(sid).Closed.Task.WaitAsync(EngineTestServer.Timeout);
        Assert.Equal(1, Record(sid).CloseCount);
        return reason;
    }

    public bool IsClosed(string sid) => Record(sid).Closed.Task.IsCompleted;

    public void OnPollParked(string sid) => Record(sid).Parked.Release();

    /// <summary>Waits until a polling GET is parked on the session (woken by each park, never by a timer).</summary>
    public async Task WaitForParkedGetAsync(EngineSession session)
    {
        using var timeout = new CancellationTokenSource(EngineTestServer.Timeout);
        var parked = Record(session.Id).Parked;
        while (!session.HasParkedPoll)
        {
            await parked.WaitAsync(timeout.Token);
        }
    }

    public int Opens(string sid) => Record(sid).Opens;

    private SessionRecord Record(string sid) => _sessions.GetOrAdd(sid, static _ => new SessionRecord());

    private void Enter(SessionRecord record)
    {
        if (Interlocked.Increment(ref record.InCall) != 1)
        {
            OverlappingCalls = true;
        }
    }

    private static void Leave(SessionRecord record) => Interlocked.Decrement(ref record.InCall);

    internal sealed record Message(string? Text, byte[]? Binary);

    private sealed class SessionRecord
    {
        public int InCall;

        public IEngineConnection? Connection { get; set; }

        public int Opens { get; set; }

        public int CloseCount { get; set; }

        public TaskCompletionSource Opened { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<string> Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Channel<Message> Messages { get; } = Channel.CreateUnbounded<Message>();

        public SemaphoreSlim Parked { get; } = new(0);
    }
}
