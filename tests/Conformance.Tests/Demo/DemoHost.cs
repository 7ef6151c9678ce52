using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace OrleansRooms.Conformance.Demo;

/// <summary>
/// The chat demo of <c>src/Gateway/Host</c> as a reader runs it (<c>dotnet OrleansRooms.Gateway.Host.dll</c>), on a
/// free loopback port, from the test build. Killed on dispose.
/// </summary>
internal sealed partial class DemoHost : IAsyncDisposable
{
    private static readonly string Output = typeof(DemoHost).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "HostOutput").Value!;

    private readonly Process _process;
    private readonly StringBuilder _log;

    private DemoHost(Process process, StringBuilder log, Uri url)
    {
        _process = process;
        _log = log;
        Url = url;
    }

    public Uri Url { get; }

    /// <summary>
    /// The demo's project folder, to pass as content root (setting <c>contentRoot</c>) when a test needs the page: a build
    /// output has neither its wwwroot nor the client bundle in node_modules, which a publish output and
    /// <c>dotnet run</c> have.
    /// </summary>
    public static string ProjectDirectory { get; } = Path.GetFullPath(Path.Combine(Output, "..", "..", ".."));

    /// <summary>The settings that make a demo a gateway of cluster <paramref name="clusterId"/>, its membership in <paramref name="redis"/>.</summary>
    public static Dictionary<string, string> ClusterSettings(OrleansRooms.TestCluster.RedisServer redis, string clusterId) => new()
    {
        ["Orleans:ClusterId"] = clusterId,
        ["Orleans:ServiceId"] = clusterId,
        ["Orleans:Clustering:ProviderType"] = "Redis",
        ["Orleans:Clustering:ConnectionString"] = redis.ConnectionString,
        ["Orleans:Endpoints:AdvertisedIPAddress"] = "127.0.0.1",
        // No Orleans client connects to a demo: no client gateway port (Orleans' default, 30000, is one port for every
        // gateway on this machine, and a second one refuses to start on it).
        ["Orleans:Endpoints:GatewayPort"] = "0",
    };

    /// <summary>What the host printed so far.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>
    /// Starts the demo; <paramref name="settings"/> are configuration keys, such as <c>Chat:MaxRoomsPerClient</c>, or
    /// <see cref="ClusterSettings"/> to make it a gateway of a cluster.
    /// </summary>
    public static async Task<DemoHost> StartAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var log = new StringBuilder();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = Launch(settings, log, line =>
        {
            if (ListeningLine().Match(line) is { Success: true } match)
            {
                listening.TrySetResult(new Uri(match.Groups[1].Value));
            }
        });
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("the demo exited"));
        try
        {
            return new DemoHost(process, log, await listening.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
            string output;
            lock (log)
            {
                output = log.ToString();
            }

            throw new Xunit.Sdk.XunitException($"the demo did not start: {ex.Message}\n{output}");
        }
    }

    /// <summary>
    /// Starts the demo with settings it must refuse to start with, and returns its exit code and what it printed; fails
    /// the test if it starts listening instead, or is still running after 30 s.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunRefusedAsync(IReadOnlyDictionary<string, string> settings)
    {
        var log = new StringBuilder();
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = Launch(settings, log, line =>
        {
            if (ListeningLine().IsMatch(line))
            {
                listening.TrySetResult();
            }
        });
        try
        {
            var exited = process.WaitForExitAsync();
            await Task.WhenAny(exited, listening.Task).WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            // Until both streams are read to their end, so the log is complete.
            await process.WaitForExitAsync();
            process.WaitForExit();
        }

        lock (log)
        {
            Assert.False(listening.Task.IsCompleted, $"the demo started:\n{log}");
            return (process.ExitCode, log.ToString());
        }
    }

    private static Process Launch(IReadOnlyDictionary<string, string>? settings, StringBuilder log, Action<string> onLine)
    {
        var dll = Path.Combine(Output, "OrleansRooms.Gateway.Host.dll");
        Assert.True(File.Exists(dll), $"the demo is not built in {Output}");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Output, // its content root: appsettings.json and wwwroot
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // A silo port of its own: test projects run at once, and Orleans' default (11111) is not free for each.
        foreach (var arg in (string[])[dll, "--urls", "http://127.0.0.1:0", "--Orleans:Endpoints:SiloPort=" + OrleansRooms.Specification.TestSilo.FreePort()])
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        var process = Process.Start(start)!;
        process.StandardInput.Close();
        DataReceivedEventHandler record = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (log)
            {
                log.AppendLine(e.Data);
            }

            onLine(e.Data);
        };
        process.OutputDataReceived += record;
        process.ErrorDataReceived += record;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.EnableRaisingEvents = true;
        return process;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();
}
