using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OrleansRooms.Specification;

namespace OrleansRooms.Tests.SocketIO;

/// <summary>The server-wide acknowledgement timeout (<see cref="SocketIOOptions.AckTimeout"/>), on a fake clock.</summary>
public sealed class AckTimeoutTests : IAsyncLifetime
{
    private static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(5);

    private readonly FakeTimeProvider _time = new();
    private GatewayNode _node = null!;
    private TestClient _client = null!;

    private SocketIOServer Io => _node.Io;

    public async Task InitializeAsync()
    {
        _node = await GatewayNode.StartAsync(
            services => services.AddSingleton<TimeProvider>(_time),
            options => options.AckTimeout = AckTimeout);
        _client = await TestClient.ConnectAsync(_node.Url);
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _node.DisposeAsync();
    }

    [Fact]
    public async Task A_socket_emit_with_ack_fails_at_the_server_wide_timeout()
    {
        var socket = Io.Sockets.Sockets[_client.Id];

        var answer = socket.EmitWithAckAsync("never-answered").AsTask();
        await _client.ExpectEventAsync("never-answered");
        _time.Advance(AckTimeout - TimeSpan.FromMilliseconds(1));
        Assert.False(answer.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.True(answer.IsFaulted); // the fake clock ran the timeout
        await Assert.ThrowsAsync<TimeoutException>(() => answer);
    }

    [Fact]
    public async Task A_broadcast_with_acks_fails_at_the_server_wide_timeout()
    {
        var answers = Io.EmitWithAckAsync("never-answered").AsTask();
        await _client.ExpectEventAsync("never-answered");
        _time.Advance(AckTimeout - TimeSpan.FromMilliseconds(1));
        Assert.False(answers.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        var error = await Assert.ThrowsAsync<BroadcastAckTimeoutException>(() => answers.WaitAsync(TestClient.DefaultWait, TimeProvider.System));
        Assert.Empty(error.Responses);
    }

    [Fact]
    public async Task A_timeout_set_on_the_call_overrides_the_server_wide_one()
    {
        var socket = Io.Sockets.Sockets[_client.Id];

        var single = socket.Timeout(AckTimeout * 2).EmitWithAckAsync("never-answered").AsTask();
        var broadcast = Io.Timeout(AckTimeout * 2).EmitWithAckAsync("never-answered").AsTask();
        await _client.ExpectEventAsync("never-answered");
        await _client.ExpectEventAsync("never-answered");
        _time.Advance(AckTimeout);
        Assert.False(single.IsCompleted);
        Assert.False(broadcast.IsCompleted);
        _time.Advance(AckTimeout);

        Assert.True(single.IsFaulted);
        await Assert.ThrowsAsync<TimeoutException>(() => single);
        await Assert.ThrowsAsync<BroadcastAckTimeoutException>(() => broadcast.WaitAsync(TestClient.DefaultWait, TimeProvider.System));
    }

    [Fact]
    public async Task An_answer_within_the_server_wide_timeout_is_returned()
    {
        _client.AutoAcks["question"] = "answer";
        var socket = Io.Sockets.Sockets[_client.Id];

        var answer = await socket.EmitWithAckAsync("question").AsTask().WaitAsync(TestClient.DefaultWait, TimeProvider.System);

        Assert.Equal("answer", answer.Get<string>(0));
    }
}
