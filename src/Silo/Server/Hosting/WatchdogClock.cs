using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Orleans.Hosting;

/// <summary>
/// The clock of Orleans' silo watchdog (Orleans.Runtime.Watchdog), whose timestamps count from the first one it gives.
/// Watchdog.Start starts the platform thread before it records when the component check began, and that thread's first
/// check reads the record while it still holds 0: on the system clock, 0 is when the machine booted, so every silo
/// warned at start "Participant check thread has not completed for" the machine's uptime. The first timestamp is the one
/// Start takes, so a 0 read here means "since the watchdog started", and a real stall is still reported.
/// </summary>
internal sealed class WatchdogClock : TimeProvider
{
    private long _origin;

    public override long GetTimestamp()
    {
        var now = Stopwatch.GetTimestamp();
        var origin = Interlocked.CompareExchange(ref _origin, now, 0);
        return origin == 0 ? 0 : now - origin;
    }

    /// <summary>Gives the watchdog its own <see cref="WatchdogClock"/>, when Orleans' watchdog still takes a clock.</summary>
    internal static void Configure(IServiceCollection services)
    {
        for (var i = 0; i < services.Count; i++)
        {
            var type = services[i].ServiceType;
            if (type.FullName == "Orleans.Runtime.Watchdog" && !services[i].IsKeyedService
                && type.GetConstructors().Any(c => c.GetParameters().Any(p => p.ParameterType == typeof(TimeProvider))))
            {
                services[i] = ServiceDescriptor.Singleton(type, sp => ActivatorUtilities.CreateInstance(sp, type, new WatchdogClock()));
            }
        }
    }
}
