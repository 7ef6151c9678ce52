using System.Diagnostics;
using System.Text;
using System.Threading.Channels;

namespace OrleansRooms.Silo.Tests.Infrastructure;

/// <summary>
/// A node script that runs beside the test and talks to it line by line: the test reads what the script prints
/// (<see cref="NextLineAsync"/>), and the script ends by itself. For scenarios where node's clients must be connected
/// before the test acts (an emit from C#), then report what they received.
/// </summary>
internal sealed class NodeSession : IAsyncDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private readonly Process _process;
    private readonly string _file;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _stderr = new();

    private NodeSession(Process process, string file)
    {
        _process = process;
        _file = file;
    }

    /// <summary>Starts the body of an ES module in <c>tests/compat</c> with <paramref name="environment"/>.</summary>
    public static async Task<NodeSession> StartAsync(string script, IReadOnlyDictionary<string, string> environment)
    {
        await NodeCompat.EnsureInstalledAsync();
        var file = NodeCompat.NewScriptFile();
        await File.WriteAllTextAsync(file, script);
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = NodeCompat.Directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(file);
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var session = new NodeSession(Process.Start(start)!, file);
        session._process.StandardInput.Close();
        session._process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                session._lines.Writer.TryComplete();
            }
            else
            {
                session._lines.Writer.TryWrite(e.Data);
            }
        };
        session._process.ErrorDataReceived += (_, e) =>
        {
            lock (session._stderr)
            {
                session._stderr.AppendLine(e.Data);
            }
        };
        session._process.BeginOutputReadLine();
        session._process.BeginErrorReadLine();
        return session;
    }

    /// <summary>The next line the script prints; fails with its errors when it ends first or prints nothing in 20 s.</summary>
    public async Task<string> NextLineAsync()
    {
        using var timeout = new CancellationTokenSource(Wait);
        try
        {
            if (await _lines.Reader.WaitToReadAsync(timeout.Token) && _lines.Reader.TryRead(out var line))
            {
                return line;
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"node printed nothing within {Wait.TotalSeconds} s:\n{Errors()}");
        }

        await _process.WaitForExitAsync();
        Assert.Fail($"node ended (exit code {_process.ExitCode}) before printing what the test waits for:\n{Errors()}");
        return "";
    }

    /// <summary>Waits for the script to end and checks that it succeeded.</summary>
    public async Task WaitForSuccessAsync()
    {
        using var timeout = new CancellationTokenSource(Wait);
        await _process.WaitForExitAsync(timeout.Token);
        Assert.True(_process.ExitCode == 0, $"node exited with {_process.ExitCode}:\n{Errors()}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        File.Delete(_file);
    }

    private string Errors()
    {
        lock (_stderr)
        {
            return _stderr.ToString();
        }
    }
}
