using System.Threading.Channels;
using OrleansRooms.Grains;
using OrleansRooms.Silo.Compatibility;
using OrleansRooms.Silo.Redis;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Compatibility;

/// <summary>One redis-server, and what an <see cref="EmitterSubscription"/> on it receives.</summary>
public sealed class EmitterFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>A client subscribed to the emitter channels of <paramref name="key"/>, collecting what it translates.</summary>
    internal async Task<Capture> SubscribeAsync(string key = EmitterChannels.DefaultKey)
    {
        var client = await RedisClient.ConnectAsync(Server.CreateOptions());
        var messages = Channel.CreateUnbounded<ClusterMessage>();
        var subscription = await EmitterSubscription.StartAsync(client, m => messages.Writer.TryWrite(m), key);
        return new Capture(client, subscription, messages.Reader);
    }

    internal sealed class Capture(RedisClient client, EmitterSubscription subscription, ChannelReader<ClusterMessage> messages) : IAsyncDisposable
    {
        public RedisClient Client => client;

        /// <summary>The next translated message, within 10 s.</summary>
        public async Task<ClusterMessage> NextAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                return await messages.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("No emitter message arrived within 10 s.");
            }
        }

        public bool TryTakeMore(out ClusterMessage? message) => messages.TryRead(out message);

        public async ValueTask DisposeAsync()
        {
            await subscription.DisposeAsync();
            await client.DisposeAsync();
        }
    }
}

/// <summary>Runs scripts with the official <c>@socket.io/redis-emitter</c> against a redis-server.</summary>
internal static class OfficialEmitter
{
    /// <summary>
    /// Runs <paramref name="body"/> with <c>emitter</c> (an <c>Emitter</c> on a node-redis v4 client), <c>client</c>
    /// and <c>Emitter</c> in scope; the client quits once the body is done, after its publishes were answered.
    /// </summary>
    public static Task<string> RunAsync(RedisServer server, string body, string emitterOptions = "{}") =>
        NodeCompat.RunScriptAsync($$"""
            import { createClient } from "redis";
            import { Emitter } from "@socket.io/redis-emitter";
            const client = createClient({ url: process.env.REDIS_URL });
            await client.connect();
            const emitter = new Emitter(client, {{emitterOptions}});
            {{body}}
            await client.quit();
            """,
            new Dictionary<string, string> { ["REDIS_URL"] = $"redis://{server.Endpoint}" });
}
