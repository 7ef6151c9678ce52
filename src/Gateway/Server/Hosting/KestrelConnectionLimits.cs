using System.Globalization;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace OrleansRooms.Hosting;

/// <summary>
/// Keeps Kestrel's connection limits below the process's open-file limit unless the application set them. When
/// accept() fails with EMFILE, Kestrel retries at once; the busy loop starves the thread pool, the runtime cannot
/// create the threads it then injects (each needs descriptors) and the process ends with "Out of memory". Under the
/// limits, Kestrel accepts and closes connections it cannot serve, and the gateway keeps running.
/// </summary>
internal sealed class KestrelConnectionLimits : IConfigureOptions<KestrelServerOptions>
{
    public void Configure(KestrelServerOptions options)
    {
        if (ReadOpenFileLimit() is not { } limit)
        {
            return;
        }

        var connections = MaxConnections(limit);
        options.Limits.MaxConcurrentConnections ??= connections;
        options.Limits.MaxConcurrentUpgradedConnections ??= connections;
    }

    /// <summary>
    /// What is left after a reserve (5 %, from 512 to 4,096) for the runtime's own descriptors (an idle gateway holds
    /// about 180: assemblies, pipes, its listener), Redis connections and files.
    /// </summary>
    internal static long MaxConnections(long openFileLimit) =>
        Math.Max(openFileLimit - Math.Clamp(openFileLimit / 20, 512, 4096), 1);

    /// <summary>The soft limit of open files from /proc/self/limits; null where there is none or no such file.</summary>
    internal static long? ReadOpenFileLimit()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return fields.Length > 0 && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var soft) ? soft : null;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }
}
