using System.Diagnostics;
using System.Globalization;
using CsCheck;
using Xunit.Abstractions;

namespace OrleansRooms.Tests.Fuzz;

/// <summary>
/// How long each fuzz target runs. In the normal test run, a fixed number of executions (a second or two per target
/// on 2 cores); with <c>ORLEANSROOMS_FUZZ_SECONDS</c> set (by <c>tests/fuzz --seconds N</c>), that many seconds per
/// target. Seeds are random, as CsCheck's are: a failure prints the seed that reproduces it (pass it as
/// <c>CsCheck_Seed</c>) and the input shrunk to the fewest edits. Every run reports its executions per second.
/// </summary>
internal sealed class FuzzBudget(ITestOutputHelper output)
{
    public static readonly int? Seconds =
        int.TryParse(Environment.GetEnvironmentVariable("ORLEANSROOMS_FUZZ_SECONDS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) && s > 0 ? s : null;

    /// <summary>Runs <paramref name="check"/> on inputs of <paramref name="gen"/>: <paramref name="executions"/> of them, or the configured seconds.</summary>
    public void Run<T>(string target, Gen<T> gen, Action<T> check, long executions, Func<T, string>? print = null)
    {
        long done = 0;
        var clock = Stopwatch.StartNew();
        gen.Sample(
            input =>
            {
                Interlocked.Increment(ref done);
                check(input);
            },
            writeLine: output.WriteLine,
            iter: Seconds is null ? executions : long.MaxValue,
            time: Seconds ?? -1,
            print: print);
        Report(target, done, clock.Elapsed);
    }

    /// <summary>Like <see cref="Run"/>, for a check that talks to a server.</summary>
    public async Task RunAsync<T>(string target, Gen<T> gen, Func<T, Task> check, long executions, Func<T, string>? print = null)
    {
        long done = 0;
        var clock = Stopwatch.StartNew();
        await gen.SampleAsync(
            async input =>
            {
                Interlocked.Increment(ref done);
                await check(input);
            },
            writeLine: output.WriteLine,
            iter: Seconds is null ? executions : long.MaxValue,
            time: Seconds ?? -1,
            print: print);
        Report(target, done, clock.Elapsed);
    }

    private void Report(string target, long done, TimeSpan elapsed) =>
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fuzz {target}: {done} executions in {elapsed.TotalSeconds:F1} s, {done / Math.Max(elapsed.TotalSeconds, 0.001):F0}/s"));
}
