using OrleansRooms.TestCluster;
using System.Reflection;

namespace OrleansRooms.Conformance.Infrastructure;

/// <summary>
/// Runs a JavaScript scenario with node and <c>socket.io-client</c> 2.x (Engine.IO v3, Socket.IO protocol v4), the
/// client older apps ship. The script is written to a temporary <c>.mjs</c> in <c>tests/compat-v2</c> (so its imports
/// resolve from there and its harness), run, and deleted.
/// </summary>
internal static class V2ClientScenario
{
    /// <summary>tests/compat-v2, where the client is installed.</summary>
    public static readonly string Directory = typeof(V2ClientScenario).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "CompatV2Directory").Value!;

    private static readonly SemaphoreSlim InstallLock = new(1, 1);
    private static bool s_installed;

    /// <summary>
    /// Runs <paramref name="script"/> (the body of an ES module that may use <c>await</c>; the harness's helpers are
    /// imported) against <paramref name="gateway"/>. Fails the test with node's output when node exits non-zero or
    /// runs longer than <paramref name="timeout"/> (default 20 s).
    /// </summary>
    public static async Task<string> RunAsync(Uri gateway, string script, TimeSpan? timeout = null)
    {
        await EnsureClientInstalledAsync();
        var file = Path.Combine(Directory, $"scenario-{Guid.NewGuid():N}.mjs");
        var source = "import { io, URL, connect, connected, once, ack, record, eq, assert, bytes, transport, done } from \"./harness.mjs\";\n"
            + script + "\ndone();\n";
        await File.WriteAllTextAsync(file, source);
        try
        {
            var limit = timeout ?? TimeSpan.FromSeconds(20);
            var result = await ChildProcess.RunAsync("node", [file], Directory, new Dictionary<string, string>
            {
                ["GATEWAY_URL"] = gateway.ToString().TrimEnd('/'),
                ["SCENARIO_TIMEOUT_MS"] = ((int)(limit.TotalMilliseconds - 1000)).ToString(System.Globalization.CultureInfo.InvariantCulture),
            }, limit);
            Assert.True(result.ExitCode == 0, $"node exited with {result.ExitCode}:\n{result.Stderr}\n{result.Stdout}");
            return result.Stdout;
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Installs the client from the lock file when missing, so `dotnet test` alone works.</summary>
    private static async Task EnsureClientInstalledAsync()
    {
        if (s_installed)
        {
            return;
        }

        await InstallLock.WaitAsync();
        try
        {
            if (!File.Exists(Path.Combine(Directory, "node_modules", "socket.io-client", "package.json")))
            {
                var npm = await ChildProcess.RunAsync("npm", ["ci", "--no-audit", "--no-fund"], Directory, new Dictionary<string, string> { ["CI"] = "true" }, TimeSpan.FromMinutes(3));
                Assert.True(npm.ExitCode == 0, $"npm ci failed in {Directory}:\n{npm.Stderr}");
            }

            s_installed = true;
        }
        finally
        {
            InstallLock.Release();
        }
    }
}
