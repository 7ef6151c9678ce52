using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Infrastructure;

/// <summary>Runs scripts with the official <c>@socket.io/redis-emitter</c> 5.1.0, unchanged.</summary>
internal static class OfficialEmitter
{
    /// <summary>
    /// Runs <paramref name="body"/> with <c>emitter</c> (an <c>Emitter</c> on a node-redis v4 client of
    /// <paramref name="server"/>), <c>redisClient</c> and <c>Emitter</c> in scope; the client quits once the body is
    /// done, after Redis has answered its publishes. <paramref name="user"/> and <paramref name="password"/> log the
    /// client in as a Redis ACL user.
    /// </summary>
    public static Task<string> RunAsync(RedisServer server, string body, string emitterOptions = "{}", string? user = null, string? password = null) =>
        NodeCompat.RunScriptAsync($$"""
            import { createClient } from "redis";
            import { Emitter } from "@socket.io/redis-emitter";
            const redisClient = createClient({ url: process.env.REDIS_URL });
            await redisClient.connect();
            const emitter = new Emitter(redisClient, {{emitterOptions}});
            {{body}}
            await redisClient.quit();
            """,
            new Dictionary<string, string> { ["REDIS_URL"] = user is null ? $"redis://{server.Endpoint}" : $"redis://{Uri.EscapeDataString(user)}:{Uri.EscapeDataString(password ?? "")}@{server.Endpoint}" });

    /// <summary>
    /// What the official emitter publishes for <paramref name="body"/>, captured without Redis: the emitter is given a
    /// client whose <c>publish</c> records the channel and the bytes.
    /// </summary>
    public static async Task<IReadOnlyList<(string Channel, byte[] Payload)>> CaptureAsync(string body, string emitterOptions = "{}")
    {
        var output = await NodeCompat.RunScriptAsync($$"""
            import { Emitter } from "@socket.io/redis-emitter";
            const redisClient = {
              publish(channel, message) {
                console.log(JSON.stringify([channel, Buffer.from(message).toString("hex")]));
                return Promise.resolve(1);
              },
            };
            const emitter = new Emitter(redisClient, {{emitterOptions}});
            {{body}}
            """);
        var published = new List<(string, byte[])>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var entry = System.Text.Json.JsonSerializer.Deserialize<string[]>(line)!;
            published.Add((entry[0], Convert.FromHexString(entry[1])));
        }

        return published;
    }
}
