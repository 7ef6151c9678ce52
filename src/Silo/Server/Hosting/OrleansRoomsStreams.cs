using Orleans.Configuration;

namespace Orleans.Hosting;

/// <summary>The in-memory stream provider OrleansRooms adds for <c>Streams</c> delivery when none is configured.</summary>
internal static class OrleansRoomsStreams
{
    // Orleans polls each stream queue every 100 ms by default, which is the latency of every broadcast (measured 49 ms
    // at the median). 5 ms keeps the latency low for the cost of idle polling: 8 queues x 200 polls/s per silo.
    private static readonly TimeSpan PullingPeriod = TimeSpan.FromMilliseconds(5);
    private const int Queues = 8;

    public static void AddMemoryProvider(ISiloBuilder silo, string name)
    {
        silo.AddMemoryStreams(name, streams =>
        {
            streams.ConfigurePartitioning(Queues);
            streams.ConfigurePullingAgent(agent => agent.Configure(options => options.GetQueueMsgsTimerPeriod = PullingPeriod));
        });
        silo.AddMemoryGrainStorage("PubSubStore");
    }
}
