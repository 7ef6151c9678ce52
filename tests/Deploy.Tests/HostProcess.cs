using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;

namespace OrleansRooms.Deploy;

/// <summary>
/// One gateway or silo host started from its test build as <c>dotnet OrleansRooms.*.Host.dll</c> in its output directory
/// (as deploy/run-cluster.sh starts them), with its standard output and error read line by line. Killed on dispose.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly List<(string Text, TaskCompletionSource Seen)> _awaited = [];

    private HostProcess(Process process) => _process = process;

    public static string GatewayOutput => Metadata("HostOutput");

    public static string SiloOutput => Metadata("SiloHostOutput");

    /// <summary>Everything the process wrote so far, standard output and error interleaved as they came.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static HostProcess StartGateway(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        Start(GatewayOutput, "OrleansRooms.Gateway.Host.dll", environment, args);

    public static HostProcess StartSilo(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        Start(SiloOutput, "OrleansRooms.Silo.Host.dll", environment, args);

    /// <summary>A loopback port nobody listens on (another process could still take it before the host does).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Completes when a line containing <paramref name="text"/> is written; fails if the process ends first.</summary>
    public async Task WaitForLineAsync(string text, TimeSpan within)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            if (_output.ToString().Contains(text, StringComparison.Ordinal))
            {
                return;
            }

            _awaited.Add((text, seen));
        }

        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(seen.Task, exited).WaitAsync(within);
        Assert.True(first == seen.Task, $"the host exited with {(_process.HasExited ? _process.ExitCode : 0)} before writing \"{text}\":\n{Output}");
    }

    /// <summary>The exit code, once the process ended by itself within <paramref name="within"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan within)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(within);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the host still runs after {within.TotalSeconds} s:\n{Output}");
        }

        // Also the end of the redirected streams.
        await _process.WaitForExitAsync();
        return _process.ExitCode;
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

    private static HostProcess Start(string directory, string dll, IReadOnlyDictionary<string, string> environment, string[] args)
    {
        Assert.True(File.Exists(Path.Combine(directory, dll)), $"{dll} is not built in {directory}");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var host = new HostProcess(Process.Start(start)!);
        host._process.StandardInput.Close();
        host._process.OutputDataReceived += (_, e) => host.Append(e.Data);
        host._process.ErrorDataReceived += (_, e) => host.Append(e.Data);
        host._process.BeginOutputReadLine();
        host._process.BeginErrorReadLine();
        return host;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        List<TaskCompletionSource> seen;
        lock (_output)
        {
            _output.AppendLine(line);
            seen = _awaited.Where(a => line.Contains(a.Text, StringComparison.Ordinal)).Select(a => a.Seen).ToList();
            _awaited.RemoveAll(a => seen.Contains(a.Seen));
        }

        foreach (var s in seen)
        {
            s.TrySetResult();
        }
    }

    private static string Metadata(string key) =>
        typeof(HostProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
