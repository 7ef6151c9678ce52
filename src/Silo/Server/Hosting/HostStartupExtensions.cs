using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Startup that ends in one line a person can act on when a setting keeps an OrleansRooms host (a gateway or a silo)
/// from starting: what is wrong, which setting, how to fix it, on standard error, without a stack trace.
/// </summary>
public static class HostStartupExtensions
{
    /// <summary>The exit code of a host that a setting kept from starting.</summary>
    public const int StartupFailedExitCode = 1;

    /// <summary>
    /// Checks, before anything starts, what would keep <paramref name="host"/> from starting: the URLs it listens on
    /// (<c>urls</c>, <c>http_ports</c>, <c>https_ports</c>) and whether their ports are free, the options validated at
    /// start, the Orleans silo and gateway ports, and whether the membership Redis answers. Writes one line per problem
    /// to standard error; false when there is any (exit with <see cref="StartupFailedExitCode"/>).
    /// </summary>
    public static bool CheckStartup(this IHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var problems = StartupProblems.Find(host.Services.GetRequiredService<IConfiguration>(), host.Services);
        return Report(problems);
    }

    /// <summary>
    /// Runs <paramref name="host"/> until it stops, and returns its exit code. A startup failure that
    /// <see cref="CheckStartup"/> could not foresee (a port taken in between) and that it knows is reported as its one
    /// line, with <see cref="StartupFailedExitCode"/>; any other exception is thrown.
    /// </summary>
    public static int RunChecked(this IHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        // Read now: a host that failed to start is disposed when Run throws.
        var configuration = host.Services.GetRequiredService<IConfiguration>();
        try
        {
            host.Run();
            return 0;
        }
        catch (Exception ex) when (StartupProblems.Describe(ex, configuration) is { Count: > 0 } problems)
        {
            Report(problems);
            return StartupFailedExitCode;
        }
    }

    private static bool Report(IReadOnlyList<string> problems)
    {
        foreach (var problem in problems)
        {
            Console.Error.WriteLine($"Cannot start: {problem}");
        }

        return problems.Count == 0;
    }
}
