using System.Diagnostics;

namespace OrleansRooms.TestCluster;

/// <summary>
/// Waits for a state of the cluster that no event announces (a rebuilt room grain's members, the silo a session was
/// restored on, membership's verdict on a silo): the condition is read again until it holds, or the bound passes.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(20);

    /// <summary>Completes once <paramref name="condition"/> holds; throws <see cref="TimeoutException"/> naming <paramref name="what"/> after <paramref name="within"/>.</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > within)
            {
                throw new TimeoutException($"{what}: not within {within.TotalSeconds} s");
            }

            await Task.Delay(Pause);
        }
    }

    /// <inheritdoc cref="HoldsAsync(Func{Task{bool}}, string, TimeSpan)"/>
    public static Task HoldsAsync(Func<bool> condition, string what, TimeSpan within) =>
        HoldsAsync(() => Task.FromResult(condition()), what, within);
}
