using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;

namespace Orleans.Hosting;

/// <summary>
/// The grain directory of an OrleansRooms cluster. The room and socket grains hold state in memory only, so a grain must
/// not be lost for any other reason than its own silo's death. Orleans' default directory breaks that: when a silo dies,
/// it deactivates every surviving grain whose directory entry that silo held (measured: 20 of 284 room grains on the
/// surviving silos lost their members), and each would have to be rebuilt or restored. Orleans' distributed directory
/// recovers the dead silo's entries from the survivors instead, and keeps every surviving grain (measured: 294 of 294).
/// It is marked experimental in Orleans 10.4; every silo of a cluster must use it.
/// </summary>
/// <remarks>
/// <see cref="GrainDirectoryOptions.RangeLeaseDuration"/> (Orleans' default: 30 s) keeps a silo declared dead from
/// having its grains placed again for that long after its failure, in case it still runs cut off from the others. That
/// is the "20-second window" after a silo's death (measured: 22 s before a grain of the dead silo answered again). Here a
/// silo declared dead takes its gateway's connections with it, and a room grain reactivated while a cut-off copy still
/// runs is rebuilt from the sessions anyway, so OrleansRooms sets no lease: a grain of the dead silo answers again 0.2 s after
/// its silo was declared dead (measured). <c>Orleans:GrainDirectory:RangeLeaseDuration</c> sets one back.
/// </remarks>
public static class OrleansRoomsDirectory
{
    /// <summary>The range lease OrleansRooms sets: none.</summary>
    public static readonly TimeSpan RangeLeaseDuration = TimeSpan.Zero;

#pragma warning disable ORLEANSEXP003 // Experimental in Orleans 10.4: chosen for the reasons above, measured here.
    internal static void Configure(ISiloBuilder silo, IConfigurationSection overrides)
    {
        silo.AddDistributedGrainDirectory();
        silo.Services.Configure<GrainDirectoryOptions>(options =>
        {
            options.RangeLeaseDuration = RangeLeaseDuration;
            overrides.Bind(options);
        });
    }
#pragma warning restore ORLEANSEXP003
}
