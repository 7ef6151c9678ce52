using System.Collections.Concurrent;
using System.Text;
using OrleansRooms.Silo.Redis;

namespace OrleansRooms.Silo.Tests.Redis;

public sealed class StandaloneClientTests(RedisServerFixture fixture) : IClassFixture<RedisServerFixture>
{
    [Fact]
    public async Task Commands_return_every_reply_type()
    {
        await using var client = await fixture.ConnectAsync();
        Assert.False(client.IsCluster);
        Assert.True(client.IsConnected);

        Assert.Equal("OK", (await client.ExecuteAsync(RedisCommand.WithKey("SET", "types:s", "héllo"))).AsString());
        Assert.Equal("héllo", (await client.ExecuteAsync(RedisCommand.WithKey("GET", "types:s"))).AsString());
        Assert.Equal(RedisReplyType.SimpleString, (await client.ExecuteAsync(RedisCommand.Create("PING"))).Type);
        Assert.Equal(7, (await client.ExecuteAsync(RedisCommand.WithKey("INCRBY", "types:n", 7))).AsInt64());
        Assert.True((await client.ExecuteAsync(RedisCommand.WithKey("GET", "types:missing"))).IsNull);

        byte[] binary = [0, 255, 13, 10, 42];
        await client.ExecuteAsync(RedisCommand.WithKey("SET", "types:b", binary));
        Assert.Equal(binary, (await client.ExecuteAsync(RedisCommand.WithKey("GET", "types:b"))).AsBytes());

        await client.ExecuteAsync(RedisCommand.WithKey("RPUSH", "types:l", "a", "b", "c"));
        var list = (await client.ExecuteAsync(RedisCommand.WithKey("LRANGE", "types:l", 0, -1))).AsArray()!;
        Assert.Equal(["a", "b", "c"], list.Select(r => r.AsString()));

        // BLPOP on an empty list answers with a null array after its timeout.
        Assert.True((await client.ExecuteAsync(RedisCommand.WithKey("BLPOP", "types:empty", "0.01"))).IsNull);

        var error = await Assert.ThrowsAsync<RedisServerException>(() => client.ExecuteAsync(RedisCommand.WithKey("LPUSH", "types:s", "x")));
        Assert.StartsWith("WRONGTYPE", error.Message, StringComparison.Ordinal);
        var unknown = await Assert.ThrowsAsync<RedisServerException>(() => client.ExecuteAsync(RedisCommand.Create("NOSUCHCOMMAND")));
        Assert.Contains("unknown command", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ten_thousand_concurrent_commands_from_many_tasks_each_get_their_own_reply()
    {
        await using var client = await fixture.ConnectAsync();
        var tasks = Enumerable.Range(0, 50).Select(worker => Task.Run(async () =>
        {
            var pending = new List<(int I, Task<RedisReply> Reply)>();
            for (int i = 0; i < 200; i++)
            {
                int n = worker * 200 + i;
                pending.Add((n, client.ExecuteAsync(RedisCommand.Create("ECHO", $"value-{n}"))));
            }

            foreach (var (n, reply) in pending)
            {
                Assert.Equal($"value-{n}", (await reply).AsString());
            }
        }));

        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task One_caller_sees_its_commands_applied_in_order()
    {
        await using var client = await fixture.ConnectAsync();
        var replies = Enumerable.Range(1, 1000).Select(_ => client.ExecuteAsync(RedisCommand.WithKey("INCR", "order:n"))).ToList();

        var values = (await Task.WhenAll(replies)).Select(r => r.AsInt64());

        Assert.Equal(Enumerable.Range(1, 1000).Select(i => (long)i), values);
    }

    [Fact]
    public async Task A_timed_out_command_does_not_desynchronize_the_replies_that_follow()
    {
        await using var client = await fixture.ConnectAsync(o => o.CommandTimeout = TimeSpan.FromMilliseconds(150));

        // BLPOP holds the connection for 600 ms: longer than the command timeout.
        var blocked = client.ExecuteAsync(RedisCommand.WithKey("BLPOP", "timeout:empty", "0.6"));
        var queuedBehind = client.ExecuteAsync(RedisCommand.Create("ECHO", "behind"));
        await Assert.ThrowsAsync<TimeoutException>(() => blocked);
        await Assert.ThrowsAsync<TimeoutException>(() => queuedBehind);

        // Once the server answers the dropped commands, each later command still gets its own reply.
        await Wait.UntilAsync(async () =>
        {
            try
            {
                return (await client.ExecuteAsync(RedisCommand.Create("ECHO", "probe"))).AsString() == "probe";
            }
            catch (TimeoutException)
            {
                return false;
            }
        }, "the connection answers again");
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal($"mine-{i}", (await client.ExecuteAsync(RedisCommand.Create("ECHO", $"mine-{i}"))).AsString());
        }

        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task A_cancelled_command_does_not_desynchronize_the_replies_that_follow()
    {
        await using var client = await fixture.ConnectAsync();
        using var cts = new CancellationTokenSource();
        var blocked = client.ExecuteAsync(RedisCommand.WithKey("BLPOP", "cancel:empty", "0.3"), cts.Token);
        var next = client.ExecuteAsync(RedisCommand.Create("ECHO", "next"));
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked);
        Assert.Equal("next", (await next).AsString());
    }

    [Fact]
    public async Task Scripts_run_by_sha_and_are_sent_again_after_script_flush()
    {
        await using var client = await fixture.ConnectAsync();
        var script = new RedisScript("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCRBY', KEYS[2], ARGV[2])");
        Assert.Equal(40, script.Sha1.Length);

        // First use: NOSCRIPT, then EVAL caches it.
        Assert.Equal(5, (await client.EvalAsync(script, ["script:a", "script:n"], ["x", 5])).AsInt64());
        var exists = (await client.ExecuteAsync(RedisCommand.Create("SCRIPT", "EXISTS", script.Sha1))).AsArray()!;
        Assert.Equal(1, exists[0].AsInt64());
        Assert.Equal(10, (await client.EvalAsync(script, ["script:a", "script:n"], ["y", 5])).AsInt64());

        await client.ExecuteAsync(RedisCommand.Create("SCRIPT", "FLUSH"));
        Assert.Equal(15, (await client.EvalAsync(script, ["script:a", "script:n"], ["z", 5])).AsInt64());
        Assert.Equal("z", (await client.ExecuteAsync(RedisCommand.WithKey("GET", "script:a"))).AsString());

        var failing = new RedisScript("return redis.error_reply('MYERR nope')");
        var error = await Assert.ThrowsAsync<RedisServerException>(() => client.EvalAsync(failing, [], []));
        Assert.StartsWith("MYERR", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Subscribers_receive_published_messages_in_order()
    {
        await using var client = await fixture.ConnectAsync();
        var received = new ConcurrentQueue<string>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await client.SubscribeAsync("pubsub:ordered", message =>
        {
            Assert.Equal("pubsub:ordered", message.Channel);
            Assert.Null(message.Pattern);
            received.Enqueue(Encoding.UTF8.GetString(message.Payload.Span));
            if (received.Count == 500)
            {
                done.TrySetResult();
            }
        });

        var publishes = Enumerable.Range(0, 500).Select(i => client.PublishAsync("pubsub:ordered", Encoding.UTF8.GetBytes($"m{i}"))).ToList();
        Assert.All(await Task.WhenAll(publishes), receivers => Assert.Equal(1, receivers));
        await done.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(Enumerable.Range(0, 500).Select(i => $"m{i}"), received);

        await client.UnsubscribeAsync("pubsub:ordered");
        Assert.Equal(0, await client.PublishAsync("pubsub:ordered", "gone"u8.ToArray()));
    }

    [Fact]
    public async Task Pattern_subscribers_receive_the_pattern_and_the_channel()
    {
        await using var client = await fixture.ConnectAsync();
        var received = new TaskCompletionSource<(string Channel, string? Pattern, string Payload)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await client.PSubscribeAsync("psub:*:news", message =>
            received.TrySetResult((message.Channel, message.Pattern, Encoding.UTF8.GetString(message.Payload.Span))));

        Assert.Equal(0, await client.PublishAsync("psub:x:other", "no"u8.ToArray()));
        Assert.Equal(1, await client.PublishAsync("psub:sport:news", "goal"u8.ToArray()));

        Assert.Equal(("psub:sport:news", "psub:*:news", "goal"), await received.Task.WithTimeout());
        await client.PUnsubscribeAsync("psub:*:news");
        Assert.Equal(0, await client.PublishAsync("psub:sport:news", "x"u8.ToArray()));
    }

    [Fact]
    public async Task Shard_channels_work_on_a_standalone_server()
    {
        await using var client = await fixture.ConnectAsync();
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await client.SSubscribeAsync("shard:one", message => received.TrySetResult(Encoding.UTF8.GetString(message.Payload.Span)));

        Assert.Equal(1, await client.SPublishAsync("shard:one", "hi"u8.ToArray()));
        Assert.Equal("hi", await received.Task.WithTimeout());

        await client.SUnsubscribeAsync("shard:one");
        Assert.Equal(0, await client.SPublishAsync("shard:one", "again"u8.ToArray()));
    }

    [Fact]
    public async Task A_throwing_handler_does_not_stop_later_messages()
    {
        await using var client = await fixture.ConnectAsync();
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await client.SubscribeAsync("pubsub:throws", message =>
        {
            if (message.Payload.Span.SequenceEqual("boom"u8))
            {
                throw new InvalidOperationException("handler bug");
            }

            second.TrySetResult();
        });

        await client.PublishAsync("pubsub:throws", "boom"u8.ToArray());
        await client.PublishAsync("pubsub:throws", "fine"u8.ToArray());
        await second.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Client_name_and_database_are_applied()
    {
        await using var client = await fixture.ConnectAsync(o =>
        {
            o.ClientName = "gateway-7";
            o.Database = 3;
        });
        await client.ExecuteAsync(RedisCommand.WithKey("SET", "db:key", "in3"));

        Assert.Equal("gateway-7", (await client.ExecuteAsync(RedisCommand.Create("CLIENT", "GETNAME"))).AsString());
        Assert.Equal("in3", (await fixture.Server.SendAsync("EVAL", "redis.call('SELECT', 3); return redis.call('GET', 'db:key')", "0")).AsString());
        Assert.True((await fixture.Server.SendAsync("GET", "db:key")).IsNull);
    }
}
