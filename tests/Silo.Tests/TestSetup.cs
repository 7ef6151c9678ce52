using System.Runtime.CompilerServices;

namespace OrleansRooms.Silo.Tests;

internal static class TestSetup
{
    // On a 2-core runner the pool starts with 2 threads, and the tests' many gateways (each with read loops, timers
    // and the test's own waits) stalled it for up to a second while it grew, which showed up as late heartbeats.
    [ModuleInitializer]
    internal static void Initialize() => ThreadPool.SetMinThreads(Math.Max(16, Environment.ProcessorCount * 4), Math.Max(16, Environment.ProcessorCount * 4));
}
