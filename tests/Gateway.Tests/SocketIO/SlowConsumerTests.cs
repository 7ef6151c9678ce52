using OrleansRooms.Specification;
using OrleansRooms.Tests.Engine;

namespace OrleansRooms.Tests.SocketIO;

/// <summary>A member of a room that never reads while broadcasts flow: bounded, then disconnected with a clear reason.</summary>
public sealed class SlowConsumerTests
{
    [Fact]
    public async Task A_room_member_that_never_reads_is_disconnected_with_send_buffer_full()
    {
        await using var node = await GatewayNode.StartAsync(configureOptions: options => options.MaxSendBufferSize = 64 * 1024);
        var joined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reason = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        node.Io.OnConnection(async socket =>
        {
            socket.OnDisconnect(r => reason.TrySetResult(r));
            await socket.JoinAsync("room");
            joined.TrySetResult();
        });

        await using var client = await StalledClient.ConnectAsync(node.Url, "EIO=4&transport=websocket");
        await client.SendTextAsync("40");
        await joined.Task.WaitAsync(EngineTestServer.Timeout);

        // Broadcasts of 480 characters, every other one volatile, until the server gives up on the client.
        var payload = new string('x', 480);
        var broadcasts = 0;
        while (!reason.Task.IsCompleted)
        {
            await node.Io.To("room").EmitAsync("m", payload);
            await node.Io.To("room").Volatile.EmitAsync("v", payload);
            broadcasts++;
            Assert.True(broadcasts < 500_000, "half a million broadcasts were buffered for a client that reads nothing");
        }

        Assert.Equal(DisconnectReason.SendBufferFull, await reason.Task);
        Assert.Empty(await node.Io.Sockets.Adapter.GetRoomMembersAsync("room"));
        Assert.True(await client.ReadToEndAsync(), "the connection is still open");
    }
}
