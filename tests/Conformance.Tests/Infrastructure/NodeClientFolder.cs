using OrleansRooms.TestCluster;
using System.Reflection;

namespace OrleansRooms.Conformance.Infrastructure;

/// <summary>
/// A folder with a node client installed from its lock file and a <c>harness.mjs</c> of helpers: scenarios are written
/// there as temporary <c>.mjs</c> files (so their imports resolve from it), run with node, and deleted.
/// </summary>
internal sealed class NodeClientFolder
{
    private readonly string[] _packages;
    private readonly string _imports;
    private readonly Lazy<Task> _install;

    /// <param name="metadataKey">The assembly metadata that holds the folder's path.</param>
    /// <param name="packages">The packages whose absence means <c>npm ci</c> has to run.</param>
    /// <param name="imports">The harness's helpers a scenario gets.</param>
    public NodeClientFolder(string metadataKey, string[] packages, string imports)
    {
        Path = typeof(NodeClientFolder).Assembly
            .GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == metadataKey).Value!;
        _packages = packages;
        _imports = imports;
        _install = new(InstallAsync);
    }

    public string Path { get; }

    /// <summary>
    /// Runs <paramref name="script"/> (the body of an ES module that may use <c>await</c>; the harness's helpers are
    /// imported) against <paramref name="gateway"/>. Fails the test with node's output when node exits non-zero or
    /// runs longer than <paramref name="timeout"/> (default 20 s).
    /// </summary>
    public async Task<string> RunAsync(Uri gateway, string script, TimeSpan? timeout = null)
    {
        await _install.Value;
        var file = System.IO.Path.Combine(Path, $"scenario-{Guid.NewGuid():N}.mjs");
        var source = $"import {{ {_imports} }} from \"./harness.mjs\";\n" + script + "\ndone();\n";
        await File.WriteAllTextAsync(file, source);
        try
        {
            var limit = timeout ?? TimeSpan.FromSeconds(20);
            var result = await ChildProcess.RunAsync("node", [file], Path, new Dictionary<string, string>
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

    /// <summary>Installs the packages from the lock file when missing, once, so `dotnet test` alone works.</summary>
    private async Task InstallAsync()
    {
        if (!_packages.All(package => File.Exists(System.IO.Path.Combine(Path, "node_modules", package, "package.json"))))
        {
            var npm = await ChildProcess.RunAsync("npm", ["ci", "--no-audit", "--no-fund"], Path, new Dictionary<string, string> { ["CI"] = "true" }, TimeSpan.FromMinutes(3));
            Assert.True(npm.ExitCode == 0, $"npm ci failed in {Path}:\n{npm.Stderr}");
        }
    }
}
