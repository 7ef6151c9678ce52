using OrleansRooms.TestCluster;
using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace OrleansRooms.Silo.Tests.Compatibility;

/// <summary>
/// Runs node scripts in <c>tests/compat</c>, where the official <c>@socket.io/redis-emitter</c> and the MessagePack
/// encoders are installed from the lock file (<c>npm ci</c> on first use when <c>node_modules</c> is missing).
/// </summary>
internal static class NodeCompat
{
    public static readonly string Directory = typeof(NodeCompat).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "CompatDirectory").Value!;

    private static readonly SemaphoreSlim InstallLock = new(1, 1);
    private static bool s_installed;

    /// <summary>Runs a script file of <c>tests/compat</c>; fails the test with node's output when it exits non-zero.</summary>
    public static async Task<string> RunFileAsync(string file, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        await EnsureInstalledAsync();
        var result = await ChildProcess.RunAsync("node", [file], Directory, environment, timeout ?? TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, $"node {file} exited with {result.ExitCode}:\n{result.Stderr}\n{result.Stdout}");
        return result.Stdout;
    }

    /// <summary>Runs the body of an ES module written to a temporary file in <c>tests/compat</c>.</summary>
    public static async Task<string> RunScriptAsync(string script, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var file = Path.Combine(Directory, $"scenario-{Guid.NewGuid():N}.mjs");
        await File.WriteAllTextAsync(file, script);
        try
        {
            return await RunFileAsync(file, environment, timeout);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task EnsureInstalledAsync()
    {
        if (s_installed)
        {
            return;
        }

        await InstallLock.WaitAsync();
        try
        {
            if (!File.Exists(Path.Combine(Directory, "node_modules", "@socket.io", "redis-emitter", "package.json")))
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
