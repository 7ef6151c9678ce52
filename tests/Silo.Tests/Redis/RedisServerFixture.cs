using OrleansRooms.Silo.Redis;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Redis;

/// <summary>One redis-server shared by a test class; tests use distinct keys.</summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();

    internal Task<RedisClient> ConnectAsync(Action<RedisOptions>? configure = null)
    {
        var options = Server.CreateOptions();
        configure?.Invoke(options);
        return RedisClient.ConnectAsync(options);
    }
}

internal static class Wait
{
    /// <summary>Polls a condition until it holds or the deadline passes (no fixed sleeps in tests).</summary>
    public static async Task UntilAsync(Func<bool> condition, string what, int timeoutMs = 10_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }

            await Task.Delay(10);
        }
    }

    public static async Task UntilAsync(Func<Task<bool>> condition, string what, int timeoutMs = 10_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }

            await Task.Delay(10);
        }
    }

    public static Task<T> WithTimeout<T>(this Task<T> task, int timeoutMs = 10_000) => task.WaitAsync(TimeSpan.FromMilliseconds(timeoutMs));
}
