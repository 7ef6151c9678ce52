using System.Runtime.InteropServices;

namespace OrleansRooms.LoadGenerator;

internal static partial class Native
{
    /// <summary>Sleeps about <paramref name="micros"/> µs; Thread.Sleep cannot go below a millisecond.</summary>
    public static void Sleep(int micros) => _ = USleep((uint)micros);

    [LibraryImport("libc", EntryPoint = "usleep")]
    private static partial int USleep(uint micros);
}
