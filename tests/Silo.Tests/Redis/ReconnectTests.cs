using System.Text;
using OrleansRooms.Silo.Redis;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Redis;

public sealed class ReconnectTests
{
    [Fact]
    public async Task After_a_crash_pending_commands_fail_and_the_client_reconnects_reauthenticates_and_resubscribes()
    {
        await using var server = await RedisServer.StartAsync(password: "pw");
        await using var client = await RedisClient.ConnectAsync(server.CreateOptions());
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int reconnectedCount = 0;
        client.ConnectionLost += _ => lost.TrySetResult();
        client.Reconnected += _ => Interlocked.Increment(ref reconnectedCount);

        var messages = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await client.SubscribeAsync("rc:channel", m => messages.Enqueue(Encoding.UTF8.GetString(m.Payload.Span)));
        await client.PSubscribeAsync("rc:pat:*", m => messages.Enqueue("p:" + Encoding.UTF8.GetString(m.Payload.Span)));
        await client.SSubscribeAsync("rc:shard", m => messages.Enqueue("s:" + Encoding.UTF8.GetString(m.Payload.Span)));

        // A command blocked on the server when it dies fails with a connection error.
        var pending = client.ExecuteAsync(RedisCommand.WithKey("BLPOP", "rc:list", 5));
        await Wait.UntilAsync(async () => (await server.SendAsync("CLIENT", "LIST")).AsString()!.Contains("cmd=blpop", StringComparison.Ordinal), "the BLPOP is blocking");
        server.Kill();

        var failure = await Assert.ThrowsAsync<RedisConnectionException>(() => pending).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains(server.Endpoint, failure.Message, StringComparison.Ordinal);
        await lost.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(client.IsConnected);

        // While down, commands fail at once instead of queueing.
        await Assert.ThrowsAsync<RedisConnectionException>(() => client.ExecuteAsync(RedisCommand.Create("PING")).WaitAsync(TimeSpan.FromSeconds(1)));

        await server.RestartAsync();
        // Both the command and the pub/sub connection come back.
        await Wait.UntilAsync(() => client.IsConnected && Volatile.Read(ref reconnectedCount) >= 2, "the client has reconnected");

        Assert.Equal("PONG", (await client.ExecuteAsync(RedisCommand.Create("PING"))).AsString());
        Assert.True((await client.ExecuteAsync(RedisCommand.WithKey("GET", "rc:anything"))).IsNull); // the restarted server is empty
        Assert.Equal(1, await client.PublishAsync("rc:channel", "after"u8.ToArray()));
        Assert.Equal(1, await client.PublishAsync("rc:pat:1", "after"u8.ToArray()));
        Assert.Equal(1, await client.SPublishAsync("rc:shard", "after"u8.ToArray()));
        await Wait.UntilAsync(() => messages.Count == 3, "the restored subscriptions received their messages");
        Assert.Equal(["after", "p:after", "s:after"], messages.Order());
    }

    [Fact]
    public async Task A_graceful_shutdown_is_also_followed_by_a_reconnect()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = await RedisClient.ConnectAsync(server.CreateOptions());
        var reconnected = new TaskCompletionSource<RedisConnectionEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Reconnected += args => reconnected.TrySetResult(args);

        await server.StopAsync();
        await Wait.UntilAsync(() => !client.IsConnected, "the client noticed the shutdown");
        await server.RestartAsync();

        var args = await reconnected.Task.WithTimeout();
        Assert.Equal(server.Endpoint, args.Endpoint);
        Assert.False(args.IsSubscriber);
        Assert.Equal("OK", (await client.ExecuteAsync(RedisCommand.WithKey("SET", "k", "v"))).AsString());
    }

    [Fact]
    public async Task Connecting_to_an_endpoint_where_nothing_listens_fails_with_a_clear_error()
    {
        await using var server = await RedisServer.StartAsync();
        var options = server.CreateOptions();
        await server.StopAsync();

        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisClient.ConnectAsync(options)).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Contains($"Could not connect to Redis at {server.Endpoint}", error.Message, StringComparison.Ordinal);
    }
}
