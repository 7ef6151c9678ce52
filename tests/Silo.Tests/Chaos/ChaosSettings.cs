using System.Globalization;

namespace OrleansRooms.Silo.Tests.Chaos;

/// <summary>
/// How long the chaos run goes on and the seed its choices come from: <c>ORLEANSROOMS_CHAOS_SECONDS</c> (default
/// <see cref="DefaultSeconds"/>: one round of every fault, about a minute) and <c>ORLEANSROOMS_CHAOS_SEED</c> (default: a
/// new one each run, printed with the results so a failure can be replayed).
/// </summary>
internal sealed record ChaosSettings(int Seed, TimeSpan Duration)
{
    public const int DefaultSeconds = 40;

    public static ChaosSettings FromEnvironment()
    {
        var seed = Environment.GetEnvironmentVariable("ORLEANSROOMS_CHAOS_SEED") is { Length: > 0 } seedText
            ? int.Parse(seedText, CultureInfo.InvariantCulture)
            : Random.Shared.Next();
        var seconds = Environment.GetEnvironmentVariable("ORLEANSROOMS_CHAOS_SECONDS") is { Length: > 0 } secondsText
            ? double.Parse(secondsText, CultureInfo.InvariantCulture)
            : DefaultSeconds;
        return new ChaosSettings(seed, TimeSpan.FromSeconds(seconds));
    }

    public override string ToString() =>
        $"ORLEANSROOMS_CHAOS_SEED={Seed} ORLEANSROOMS_CHAOS_SECONDS={Duration.TotalSeconds.ToString(CultureInfo.InvariantCulture)}";
}
