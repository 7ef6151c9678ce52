using System.Reflection;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Infrastructure;

/// <summary>
/// Runs node scripts in <c>tests/compat</c>, where the official <c>@socket.io/redis-emitter</c>, <c>socket.io-client</c>
/// and <c>redis</c> are installed from the lock file (<c>npm ci</c> on first use when they are missing). A script is
/// written to a temporary <c>.mjs</c> there, so its imports resolve from that <c>node_modules</c>, and deleted after.
/// </summary>
internal static class NodeCompat
{
    public static readonly string Directory = typeof(NodeCompat).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "CompatDirectory").Value!;

    private static readonly SemaphoreSlim InstallLock = new(1, 1);
    private static bool s_installed;

    /// <summary>Runs the body of an ES module; fails the test with node's output when it exits non-zero.</summary>
    public static async Task<string> RunScriptAsync(string script, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        await EnsureInstalledAsync();
        var file = NewScriptFile();
        await File.WriteAllTextAsync(file, script);
        try
        {
            var result = await ChildProcess.RunAsync("node", [file], Directory, environment, timeout ?? TimeSpan.FromSeconds(60));
            Assert.True(result.ExitCode == 0, $"node exited with {result.ExitCode}:\n{result.Stderr}\n{result.Stdout}");
            return result.Stdout;
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>A path for a temporary script in <c>tests/compat</c>.</summary>
    public static string NewScriptFile() => Path.Combine(Directory, $"scenario-{Guid.NewGuid():N}.mjs");

    public static async Task EnsureInstalledAsync()
    {
        if (s_installed)
        {
            return;
        }

        await InstallLock.WaitAsync();
        try
        {
            if (!File.Exists(Path.Combine(Directory, "node_modules", "socket.io-client", "package.json"))
                || !File.Exists(Path.Combine(Directory, "node_modules", "@socket.io", "redis-emitter", "package.json")))
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
